import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPat, buildPmt, TsDemuxer } from '../../../libs/mpegts/index.ts';
import type { TsDemuxEvent, TsPesEvent } from '../../../libs/mpegts/index.ts';
import { demuxAll, framesFromFlv, muxAll, pesEvents, xFlv } from './helpers.ts';

const xTs = (): Buffer => muxAll(framesFromFlv(xFlv()));

/** Events without the copies' identity, comparable with deepEqual. */
const summary = (events: TsDemuxEvent[]): unknown[] =>
  events.map((e) => (e.type === 'pes' ? { ...e, data: e.data.toString('hex') } : e));

/** Packets carrying `bytes` on `pid`, with the given payload size per packet (stuffed with an adaptation field). */
function packetize(pid: number, bytes: Buffer, sizes: number[], firstCc: number, unitStart = true): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  sizes.forEach((size, i) => {
    const p = Buffer.alloc(188, 0xff);
    p[0] = 0x47;
    p[1] = (i === 0 && unitStart ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    const stuffing = 184 - size;
    p[3] = (stuffing > 0 ? 0x30 : 0x10) | ((firstCc + i) & 15);
    if (stuffing > 0) {
      p[4] = stuffing - 1;
      if (stuffing > 1) p[5] = 0;
    }
    bytes.copy(p, 4 + stuffing, at, at + size);
    at += size;
    out.push(p);
  });
  assert.equal(at, bytes.length, 'sizes cover the bytes');
  return Buffer.concat(out);
}

const psiPackets = (pmtStreams: { streamType: number; pid: number }[], cc = 0): Buffer => {
  const pat = buildPat({
    transportStreamId: 1,
    version: 0,
    programs: [{ programNumber: 1, pmtPid: 0x1000 }],
  });
  const pmt = buildPmt({
    programNumber: 1,
    version: 0,
    pcrPid: 0x100,
    streams: pmtStreams.map((s) => ({ ...s, descriptors: Buffer.alloc(0) })),
  });
  return Buffer.concat([
    packetize(0, Buffer.concat([Buffer.from([0]), pat]), [pat.length + 1], cc),
    packetize(0x1000, Buffer.concat([Buffer.from([0]), pmt]), [pmt.length + 1], cc),
  ]);
};

test('the same bytes split at every offset give the same events', () => {
  const ts = xTs();
  const whole = summary(demuxAll(ts));
  assert.ok(pesEvents(demuxAll(ts)).length > 20);
  for (let cut = 1; cut < ts.length; cut += 1) {
    const d = new TsDemuxer();
    const events = [...d.push(ts.subarray(0, cut)), ...d.push(ts.subarray(cut)), ...d.end()];
    if (cut % 97 === 0 || cut < 400) assert.deepEqual(summary(events), whole, `cut at ${cut}`);
    else assert.equal(events.length, whole.length, `cut at ${cut}`);
    assert.ok(d.bufferedBytes === 0);
  }
  // Many small pieces, including 1-byte ones.
  const d = new TsDemuxer();
  const events: TsDemuxEvent[] = [];
  for (let at = 0, n = 1; at < ts.length; at += n, n = (n * 5 + 3) % 401)
    events.push(...d.push(ts.subarray(at, at + n)));
  events.push(...d.end());
  assert.deepEqual(summary(events), whole);
});

test('resync after garbage and after a cut packet; lost bytes are counted, later frames survive', () => {
  const ts = xTs();
  const packets = ts.length / 188;
  const garbage = Buffer.from('47 00 11 47 ff 47 47 12 34'.replace(/ /g, ''), 'hex');
  // Garbage between packets 10 and 11, and packet 30 cut to 100 bytes.
  const damaged = Buffer.concat([
    ts.subarray(0, 10 * 188),
    garbage,
    ts.subarray(10 * 188, 30 * 188),
    ts.subarray(30 * 188, 30 * 188 + 100),
    ts.subarray(31 * 188),
  ]);
  for (const chunk of [damaged.length, 1, 7, 188, 200]) {
    const d = new TsDemuxer();
    const events: TsDemuxEvent[] = [];
    for (let at = 0; at < damaged.length; at += chunk)
      events.push(...d.push(damaged.subarray(at, at + chunk)));
    events.push(...d.end());
    assert.equal(d.stats.syncLosses, 2, `chunk ${chunk}`);
    assert.equal(d.stats.skippedBytes, garbage.length + 100);
    assert.equal(d.stats.packets, packets - 1);
    // Every PES that started after the damage is intact.
    const original = pesEvents(demuxAll(ts)).filter((p) => p.packetIndex > 31);
    const got = pesEvents(events).filter((p) => p.packetIndex >= 31);
    assert.deepEqual(
      got.map((p) => p.data),
      original.map((p) => p.data),
    );
  }
});

test('garbage only: no events, no exception, bounded buffer', () => {
  const d = new TsDemuxer();
  let seed = 1;
  for (let i = 0; i < 200; i++) {
    const chunk = Buffer.alloc(5000);
    for (let k = 0; k < chunk.length; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      chunk[k] = seed >> 16;
    }
    d.push(chunk);
    assert.ok(d.bufferedBytes <= 188);
  }
  d.end();
  assert.ok(d.stats.skippedBytes > 900_000);
});

test('a continuity error is reported per PID with its position, and flags the PES', () => {
  const ts = xTs();
  // The first video PES (the key frame) spans several packets; drop its third packet.
  const events = demuxAll(ts);
  const key = pesEvents(events, 0x100)[0]!;
  const dropped = key.packetIndex + 2;
  const damaged = Buffer.concat([ts.subarray(0, dropped * 188), ts.subarray((dropped + 1) * 188)]);
  const d = new TsDemuxer();
  const got = demuxAll(damaged, d);
  assert.deepEqual(d.stats.continuity.get(0x100), { count: 1, packetIndexes: [dropped] });
  assert.equal(d.stats.continuity.size, 1);
  const disc = got.filter((e) => e.type === 'discontinuity');
  assert.equal(disc.length, 1);
  assert.equal(disc[0]!.pid, 0x100);
  const [first, second] = pesEvents(got, 0x100);
  assert.equal(first!.continuityError, true);
  assert.equal(first!.data.length, key.data.length - 184);
  assert.equal(second!.continuityError, false);
});

test('a duplicate packet is ignored', () => {
  const ts = xTs();
  const dup = Buffer.concat([ts.subarray(0, 5 * 188), ts.subarray(4 * 188)]);
  const d = new TsDemuxer();
  const key = (p: TsPesEvent): unknown[] => [p.pid, p.pts90k, p.dts90k, p.data];
  assert.deepEqual(pesEvents(demuxAll(dup, d)).map(key), pesEvents(demuxAll(ts)).map(key));
  assert.equal(d.stats.duplicatePackets, 1);
  assert.equal(d.stats.continuity.size, 0);
});

test('a PMT with a bad CRC is counted and not applied', () => {
  const ts = Buffer.from(xTs());
  ts[188 + 10]! ^= 0x01; // inside the first PMT section
  const d = new TsDemuxer();
  const events = demuxAll(ts, d);
  assert.equal(d.stats.crcErrors, 1);
  // Nothing is demuxed until the next PMT: x.flv has one key frame, so none comes.
  assert.equal(pesEvents(events).length, 0);
  assert.equal(d.programs.size, 0);
});

test('oversized PES packets are dropped and counted; memory stays within the limit', () => {
  const ts = xTs();
  const keySize = pesEvents(demuxAll(ts), 0x100)[0]!.data.length;
  const maxPesBytes = 1000;
  assert.ok(keySize > maxPesBytes);
  const d = new TsDemuxer({ maxPesBytes });
  const events: TsDemuxEvent[] = [];
  for (let at = 0; at < ts.length; at += 188) {
    events.push(...d.push(ts.subarray(at, at + 188)));
    assert.ok(d.bufferedBytes <= 2 * maxPesBytes + 188);
  }
  events.push(...d.end());
  assert.equal(d.stats.oversizedPes, 1);
  const video = pesEvents(events, 0x100);
  assert.ok(video.every((p) => p.data.length <= maxPesBytes));
  assert.equal(video.length, pesEvents(demuxAll(ts), 0x100).length - 1);
  assert.equal(pesEvents(events, 0x101).length, pesEvents(demuxAll(ts), 0x101).length);
});

test('a PES header split across packets, and a bounded PES cut by the next unit start', () => {
  const es = Buffer.alloc(500, 0x5a);
  const header = Buffer.from('000001c000008480052100010e11', 'hex'); // audio, PTS 1800
  header.writeUInt16BE(8 + es.length, 4);
  const pes = Buffer.concat([header, es]);
  const ts = Buffer.concat([
    psiPackets([{ streamType: 0x0f, pid: 0x101 }]),
    packetize(0x101, pes, [5, 9, 184, 184, pes.length - 382], 0),
  ]);
  const d = new TsDemuxer();
  const [got] = pesEvents(demuxAll(ts, d));
  assert.equal(got!.pts90k, 1800);
  assert.deepEqual(got!.data, es);
  // The same PES, but the next unit start comes 10 bytes early.
  const cut = Buffer.concat([
    psiPackets([{ streamType: 0x0f, pid: 0x101 }]),
    packetize(0x101, pes.subarray(0, pes.length - 10), [184, 184, pes.length - 378], 0),
    packetize(0x101, pes, [184, 184, pes.length - 368], 3),
  ]);
  const d2 = new TsDemuxer();
  const events = demuxAll(cut, d2);
  assert.equal(d2.stats.truncatedPes, 1);
  assert.equal(pesEvents(events).length, 1);
});

test('a section spanning packets, and a packet that ends one section and starts another', () => {
  const pat = buildPat({
    transportStreamId: 7,
    version: 3,
    programs: [{ programNumber: 1, pmtPid: 0x1000 }],
  });
  const pmt = buildPmt({
    programNumber: 1,
    version: 5,
    pcrPid: 0x100,
    streams: [
      { streamType: 0x1b, pid: 0x100, descriptors: Buffer.alloc(300, 0x05) },
      { streamType: 0x0f, pid: 0x101, descriptors: Buffer.alloc(0) },
    ],
  });
  assert.ok(pmt.length > 184);
  // PMT in 3 packets: 100 + 184 + the rest; then a packet whose pointer_field skips the tail of a
  // second PMT copy, which begins in the last packet of the first. Keep it simple: two copies back to back.
  const two = Buffer.concat([Buffer.from([0]), pmt, pmt]);
  const sizes = [100, 184, 184, two.length - 468];
  const ts = Buffer.concat([
    packetize(0, Buffer.concat([Buffer.from([0]), pat]), [pat.length + 1], 0),
    packetize(0x1000, two, sizes, 0),
  ]);
  const d = new TsDemuxer();
  const events = demuxAll(ts, d);
  const pmts = events.filter((e) => e.type === 'pmt');
  // The second copy starts mid-packet without a pointer_field: only a unit start may begin a
  // section, so a careful demuxer reads one PMT and drops nothing else.
  assert.equal(pmts.length, 1);
  assert.equal(pmts[0]!.type === 'pmt' && pmts[0]!.pmt.version, 5);
  assert.equal(d.stats.crcErrors, 0);
  // pointer_field > 0: the first bytes finish the previous section, a new one follows.
  const tailLength = 50;
  const first = Buffer.concat([Buffer.from([0]), pmt.subarray(0, pmt.length - tailLength)]);
  const second = Buffer.concat([
    Buffer.from([tailLength]),
    pmt.subarray(pmt.length - tailLength),
    pmt.subarray(0, 100),
  ]);
  const ts2 = Buffer.concat([
    packetize(0, Buffer.concat([Buffer.from([0]), pat]), [pat.length + 1], 0),
    packetize(0x1000, first, [184, first.length - 184], 0),
    packetize(0x1000, second, [second.length], 2),
    packetize(0x1000, pmt.subarray(100), [184, pmt.length - 284], 3, false),
  ]);
  const d2 = new TsDemuxer();
  const pmts2 = demuxAll(ts2, d2).filter((e) => e.type === 'pmt');
  assert.equal(pmts2.length, 2);
  assert.equal(d2.stats.badSections + d2.stats.crcErrors, 0);
  assert.deepEqual([...d2.programs.keys()], [0x1000]);
});

test('PES on PIDs the PMT does not list are ignored; PCRs are reported as they come', () => {
  const ts = xTs();
  const events = demuxAll(ts);
  const pcr = events.filter((e) => e.type === 'pcr');
  const video = pesEvents(events, 0x100);
  // Every video PES carries one; x.flv's 10 fps video is sparse enough for audio to add more.
  assert.ok(pcr.every((e) => e.pid === 0x100));
  assert.ok(
    video.every((p: TsPesEvent) => pcr.some((e) => e.packetIndex === p.packetIndex && e.pcr90k === p.pcr90k)),
  );
  assert.ok(pcr.length > video.length);
  const onlyAudio = Buffer.concat([psiPackets([{ streamType: 0x0f, pid: 0x101 }], 5), ts.subarray(2 * 188)]);
  const d = new TsDemuxer();
  const got = demuxAll(onlyAudio, d);
  assert.equal(pesEvents(got, 0x100).length, 0);
  assert.ok(pesEvents(got, 0x101).length > 0);
});
