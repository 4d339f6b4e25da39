// Seeds for the rtp-depacketize and rtcp fuzz targets, from the ffmpeg-made elementary streams
// in test/fixtures/codec (see its README): each stream is packetized by libs/rtp and written as
// the targets read it, [u16 length][RTP packet] records. The bitstreams are the encoders';
// the RTP framing is ours (no RTSP capture here yet). RTCP seeds are our SR/RR builders' output.
//   node --import tsx test/fuzz/corpus-tools/rtp-seeds.ts
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { h264NalType, h265NalType, parseAdtsFrames, splitAnnexB } from '../../../libs/codec/index.ts';
import {
  buildReceiverReport,
  buildSenderReport,
  forEachInterleaved,
  packetizeAac,
  packetizeH264,
  packetizeH265,
  RtpTrackOutput,
} from '../../../libs/rtp/index.ts';
import type { RtpPayload } from '../../../libs/rtp/index.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test/fixtures/codec');
const CORPUS = join(ROOT, 'test/fuzz/corpus');
/** Seeds stay small: the fuzzer gains little from long payloads. */
const SEED_CAP = 8 * 1024;

/** NAL units grouped into access units: non-VCL units join the next picture's. */
function accessUnits(nalus: Buffer[], isVcl: (n: Buffer) => boolean): Buffer[][] {
  const aus: Buffer[][] = [];
  let cur: Buffer[] = [];
  for (const n of nalus) {
    cur.push(n);
    if (isVcl(n)) {
      aus.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) aus.push(cur);
  return aus;
}

/** Packets of several calls as [u16 length][packet] records, cut at SEED_CAP. */
function records(calls: { payloads: RtpPayload[]; ts: number }[], clockRate: number): Buffer {
  const out = new RtpTrackOutput({
    payloadType: 96,
    clockRate,
    ssrc: 0x5eed,
    initialSequence: 65530,
    channel: 0,
  });
  const parts: Buffer[] = [];
  let size = 0;
  for (const c of calls) {
    forEachInterleaved(out.write(c.payloads, c.ts), (_ch, pkt) => {
      if (size + 2 + pkt.length > SEED_CAP) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(pkt.length);
      parts.push(len, pkt);
      size += 2 + pkt.length;
    });
  }
  return Buffer.concat(parts);
}

function write(target: string, seeds: Map<string, Buffer>): void {
  const dir = join(CORPUS, target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of seeds) writeFileSync(join(dir, `${name}.bin`), b);
  console.log(`${target}: ${seeds.size} seeds`);
}

const rtp = new Map<string, Buffer>();
for (const [file, max] of [
  ['h264-baseline-320x240', 1400],
  ['h264-high-1920x1080', 200],
  ['h264-main-1280x720', 60],
] as const) {
  const aus = accessUnits(splitAnnexB(readFileSync(join(FIXTURES, `${file}.h264`))), (n) => {
    const t = h264NalType(n);
    return t >= 1 && t <= 5;
  });
  rtp.set(
    `${file}-${max}`,
    records(
      aus.map((au, i) => ({ payloads: packetizeH264(au, max), ts: i * 3000 })),
      90000,
    ),
  );
}
for (const [file, max] of [
  ['h265-main-1280x720', 1400],
  ['h265-main10-854x480', 300],
  ['h265-sublayers-1920x1080', 80],
] as const) {
  const aus = accessUnits(
    splitAnnexB(readFileSync(join(FIXTURES, `${file}.hevc`))),
    (n) => h265NalType(n) < 32,
  );
  rtp.set(
    `${file}-${max}`,
    records(
      aus.map((au, i) => ({ payloads: packetizeH265(au, max), ts: i * 3000 })),
      90000,
    ),
  );
}
for (const [file, max] of [
  ['aac-stereo-48000', 1400],
  ['aac-mono-44100', 100],
] as const) {
  const frames = parseAdtsFrames(readFileSync(join(FIXTURES, `${file}.aac`))).map((f) => f.payload);
  rtp.set(`${file}-${max}`, records([{ payloads: packetizeAac(frames, max), ts: 0xfffff000 }], 48000));
}
write('rtp-depacketize', rtp);

const rtcp = new Map<string, Buffer>();
rtcp.set(
  'sr',
  buildSenderReport({
    ssrc: 0x5eed,
    ntpTimeMs: 1_700_000_000_123,
    rtpTimestamp: 123456,
    packetCount: 10,
    octetCount: 9000,
    cname: 'sluice',
  }),
);
const block = {
  fractionLost: 12,
  cumulativeLost: -2,
  highestSequence: 70000,
  jitter: 30,
  lastSr: 0x12345678,
  delaySinceLastSr: 655,
};
rtcp.set(
  'rr',
  buildReceiverReport({
    ssrc: 7,
    reports: [
      { ssrc: 0x5eed, ...block },
      { ssrc: 9, ...block },
    ],
    cname: 'viewer',
  }),
);
// An RR followed by a BYE (RFC 3550 §6.6), as a receiver sends on TEARDOWN.
rtcp.set(
  'rr-bye',
  Buffer.concat([
    buildReceiverReport({ ssrc: 7, reports: [], cname: 'v' }),
    Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 7]),
  ]),
);
write('rtcp', rtcp);
