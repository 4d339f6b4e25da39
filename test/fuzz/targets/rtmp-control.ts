import { splitAggregate } from '../../../libs/rtmp/aggregate.ts';
import { parseSetPeerBandwidth, parseU32Control, parseUserControl } from '../../../libs/rtmp/control.ts';
import { MessageType } from '../../../libs/rtmp/message-types.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';

const TYPES = [1, 2, 3, 4, 5, 6, 22];

const typeMutator: Mutator = (b, rng) => {
  const out = Buffer.from(b.length > 0 ? b : Buffer.of(4));
  out[0] = rng.pick([...TYPES, rng.below(256)]);
  return out;
};

/** An aggregate body made of a real message payload: sub-message headers to tweak. */
const aggregateMutator: Mutator = (b, rng) => {
  const data = b.subarray(1, 1 + rng.below(64));
  const sub = Buffer.alloc(11 + data.length + 4);
  sub[0] = rng.pick([8, 9, 18, 22, rng.below(256)]);
  sub.writeUIntBE(rng.oneIn(4) ? rng.below(0x1000000) : data.length, 1, 3);
  sub.writeUInt32BE(rng.u32(), 4);
  data.copy(sub, 11);
  return Buffer.concat([Buffer.of(22), b.subarray(1), sub]);
};

/** Protocol control, user control and aggregate messages (libs/rtmp/control.ts, aggregate.ts). */
export const target: FuzzTarget = {
  name: 'rtmp-control',
  description: 'control/user-control parsers and splitAggregate on [type id][body] from captures',
  mutators: [typeMutator, aggregateMutator],
  run(input) {
    if (input.length === 0) return;
    const typeId = input[0]!;
    const payload = input.subarray(1);
    switch (typeId) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
      case MessageType.Ack:
      case MessageType.WindowAckSize:
        parseU32Control(payload, 'control');
        return;
      case MessageType.UserControl:
        parseUserControl(payload);
        return;
      case MessageType.SetPeerBandwidth:
        parseSetPeerBandwidth(payload);
        return;
      default: {
        const subs = splitAggregate({ csid: 6, typeId: 22, streamId: 1, timestamp: 1000, payload });
        const total = subs.reduce((n, m) => n + m.payload.length + 15, 0);
        invariant(total === payload.length, `sub-messages cover ${total} of ${payload.length} bytes`);
        invariant(
          subs.every((m) => m.typeId !== 22),
          'nested aggregate',
        );
      }
    }
  },
};
