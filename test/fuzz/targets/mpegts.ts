import { TsDemuxer, PTS_MODULO } from '../../../libs/mpegts/index.ts';
import type { TsDemuxEvent } from '../../../libs/mpegts/index.ts';
import { invariant, pieces, splitPoints } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { tsPacketMutator } from '../structure/ts-packets.ts';

/** Small, so that the seeds' key frames (1-3 KiB) and two streams together reach the limits. */
const MAX_PES = 2048;
const MAX_BUFFERED = 3072;

function demux(parts: readonly Buffer[]): { events: TsDemuxEvent[]; demuxer: TsDemuxer } {
  const demuxer = new TsDemuxer({ maxPesBytes: MAX_PES, maxBufferedBytes: MAX_BUFFERED });
  const events: TsDemuxEvent[] = [];
  for (const p of parts) {
    events.push(...demuxer.push(p));
    // One carried partial packet beside the PES bytes.
    invariant(demuxer.bufferedBytes <= MAX_BUFFERED + 188, () => `${demuxer.bufferedBytes} bytes buffered`);
  }
  events.push(...demuxer.end());
  invariant(demuxer.bufferedBytes === 0, 'bytes left after end()');
  return { events, demuxer };
}

const describe = (e: TsDemuxEvent): string =>
  e.type === 'pes'
    ? `pes ${e.pid} ${e.packetIndex} ${e.pts90k} ${e.dts90k} ${e.randomAccess} ${e.pcr90k} ${e.continuityError} ${e.data.toString('hex')}`
    : JSON.stringify(e);

/** MPEG-TS demuxing (libs/mpegts): never throws, same events whole and split, bounded memory. */
export const target: FuzzTarget = {
  name: 'mpegts',
  description:
    'TsDemuxer (whole and split, 2 KiB PES limit): ffmpeg mpegts output and TsMuxer output of ffmpeg FLVs',
  mutators: [tsPacketMutator, tsPacketMutator, tsPacketMutator],
  dictionary: [
    Buffer.from([0x47]),
    Buffer.from([0x47, 0x40, 0x00, 0x10, 0x00]),
    Buffer.from([0x47, 0x50, 0x00, 0x10, 0x00]),
    Buffer.from([0x00, 0x00, 0x01, 0xe0, 0x00, 0x00]),
    Buffer.from([0x00, 0x00, 0x01, 0xc0]),
    Buffer.from([0x00, 0xb0, 0x0d]),
    Buffer.from([0x02, 0xb0]),
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
  ],
  // The demuxer counts bad input in its stats; it documents no error at all.
  allowed: () => false,
  run(input) {
    const whole = demux([input]);
    const split = demux(pieces(input, splitPoints(input, 6)));
    invariant(whole.events.length === split.events.length, 'split changed the number of events');
    whole.events.forEach((e, i) =>
      invariant(describe(e) === describe(split.events[i]!), `event ${i} differs when split`),
    );
    const s = whole.demuxer.stats;
    // Every byte is a packet or counted as skipped.
    invariant(
      s.packets * 188 + s.skippedBytes === input.length,
      () => `${s.packets} packets + ${s.skippedBytes} skipped != ${input.length}`,
    );
    let discontinuities = 0;
    for (const e of whole.events) {
      invariant(
        e.packetIndex >= 0 && e.packetIndex < s.packets,
        `event at packet ${e.packetIndex} of ${s.packets}`,
      );
      if (e.type === 'pes') {
        invariant(e.data.length <= MAX_PES, `${e.data.length}-byte PES`);
        for (const t of [e.pts90k, e.dts90k])
          invariant(t === null || (t >= 0 && t < PTS_MODULO), `timestamp ${t}`);
      } else if (e.type === 'discontinuity') {
        discontinuities++;
      } else if (e.type === 'pcr') {
        invariant(e.pcr90k >= 0 && e.pcr90k < PTS_MODULO && e.pcrExtension < 512, 'PCR range');
      }
    }
    let counted = 0;
    for (const c of s.continuity.values()) counted += c.count;
    invariant(counted === discontinuities, 'continuity stats disagree with the events');
  },
};
