import { parseCommand } from '../../../libs/rtmp/commands.ts';
import { parseStreamName } from '../../../libs/rtmp/stream-name.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';
import { amf0Mutator } from '../structure/amf0-fields.ts';

/** Input: message type id, then the message body. */
const typeMutator: Mutator = (b, rng) => {
  const out = Buffer.from(b.length > 0 ? b : Buffer.of(20));
  out[0] = rng.pick([20, 17, 18, 15, 20, 17, 19, 16, 0, 255]);
  return out;
};

/** RTMP command parsing (libs/rtmp/commands.ts), and the stream names publish/play carry. */
export const target: FuzzTarget = {
  name: 'rtmp-command',
  description: 'parseCommand on [type id][body] of the command and data messages in the captures',
  mutators: [amf0Mutator(1), typeMutator],
  dictionary: [
    'connect',
    'publish',
    'play',
    'createStream',
    '@setDataFrame',
    'onMetaData',
    'app',
    'tcUrl',
  ].map((s) => Buffer.concat([Buffer.of(0x02, 0, s.length), Buffer.from(s)])),
  run(input) {
    if (input.length === 0) return;
    const cmd = parseCommand({
      csid: 3,
      typeId: input[0]!,
      streamId: 1,
      timestamp: 0,
      payload: input.subarray(1),
    });
    invariant(typeof cmd.name === 'string' && Array.isArray(cmd.args), 'command shape');
    invariant(typeof cmd.transactionId === 'number', 'transaction id');
    const name = cmd.args[0];
    if ((cmd.name === 'publish' || cmd.name === 'play') && typeof name === 'string')
      parseStreamName('live', name);
  },
};
