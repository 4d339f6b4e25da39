import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  H264Nal,
  H265Nal,
  h264NalType,
  h265NalType,
  nalusToLengthPrefixed,
  parseAudioSpecificConfig,
  parseAvcConfig,
  parseAdtsFrames,
  splitAnnexB,
  splitLengthPrefixed,
} from '../../../libs/codec/index.ts';
import { parseAudioTag, parseVideoTag } from '../../../libs/flv/index.ts';
import { PTS_MODULO, TsDemuxer, TsMuxer, wrap33 } from '../../../libs/mpegts/index.ts';
import type { TsInputFrame, TsPmtEvent } from '../../../libs/mpegts/index.ts';
import {
  aacAudio,
  demuxAll,
  enhancedVideo,
  frame,
  framesFromFlv,
  legacyVideo,
  muxAll,
  packetsOn,
  pesEvents,
  xFlv,
} from './helpers.ts';

const codecFixture = (name: string): Buffer =>
  readFileSync(new URL(`../../fixtures/codec/${name}`, import.meta.url));

/** NAL unit types of an Annex B elementary stream, H.264 or H.265. */
function nalTypes(annexB: Buffer, codec: 'h264' | 'h265'): number[] {
  return splitAnnexB(annexB).map((n) => (codec === 'h264' ? h264NalType(n) : h265NalType(n)));
}

test('x.flv (ffmpeg H.264 with B-frames + AAC) round trip: frames, PTS/DTS, Annex B, ADTS, CCs', () => {
  const frames = framesFromFlv(xFlv());
  const muxer = new TsMuxer();
  const ts = muxAll(frames, muxer);
  assert.equal(ts.length % 188, 0);
  const demuxer = new TsDemuxer();
  const events = demuxAll(ts, demuxer);
  assert.equal(demuxer.stats.continuity.size, 0);
  assert.equal(demuxer.stats.packets, ts.length / 188);
  assert.deepEqual(muxer.stats, {
    unsupportedFrames: 0,
    unsupportedVideoCodec: null,
    unsupportedAudioCodec: null,
    badFrames: 0,
    framesWithoutConfig: 0,
  });
  assert.equal(muxer.videoCodec, 'h264');
  assert.ok(muxer.hasVideo && muxer.hasAudio);

  const avc = parseAvcConfig(
    parseVideoTag(frames.find((f) => f.kind === 9 && f.isSequenceHeader)!.payload).data,
  );
  const asc = parseAudioSpecificConfig(
    parseAudioTag(frames.find((f) => f.kind === 8 && f.isSequenceHeader)!.payload).data,
  );
  const video = frames.filter((f) => f.kind === 9 && parseVideoTag(f.payload).packetType === 'codedFrames');
  const audio = frames.filter((f) => f.kind === 8 && !f.isSequenceHeader);
  const videoPes = pesEvents(events, 0x100);
  const audioPes = pesEvents(events, 0x101);
  assert.equal(videoPes.length, video.length);
  assert.equal(audioPes.length, audio.length);
  assert.ok(
    video.some((f) => parseVideoTag(f.payload).compositionTimeMs !== 0),
    'the fixture has B-frames',
  );

  video.forEach((f, i) => {
    const tag = parseVideoTag(f.payload);
    const pes = videoPes[i]!;
    assert.equal(pes.streamType, 0x1b);
    assert.equal(pes.streamId, 0xe0);
    assert.equal(pes.dts90k, f.timestampMs * 90);
    assert.equal(pes.pts90k, (f.timestampMs + tag.compositionTimeMs) * 90);
    assert.equal(pes.randomAccess, f.isKeyFrame);
    assert.equal(pes.pcr90k, f.timestampMs * 90, 'every video PES carries a PCR from its DTS');
    // AUD first, then (key frames) SPS and PPS from the record, then the sample's NAL units.
    const source = splitLengthPrefixed(tag.data, avc.nalLengthSize);
    const expected = [
      Buffer.from([0x09, 0xf0]),
      ...(f.isKeyFrame ? [...avc.sps, ...avc.pps] : []),
      ...source,
    ];
    assert.deepEqual(splitAnnexB(pes.data), expected, `video frame ${i}`);
  });
  audio.forEach((f, i) => {
    const pes = audioPes[i]!;
    assert.equal(pes.streamType, 0x0f);
    assert.equal(pes.streamId, 0xc0);
    assert.equal(pes.pts90k, f.timestampMs * 90);
    assert.equal(pes.dts90k, pes.pts90k);
    const [adts, ...more] = parseAdtsFrames(pes.data);
    assert.equal(more.length, 0);
    assert.deepEqual(adts!.asc, { ...asc, sampleRate: asc.sampleRate });
    assert.deepEqual(adts!.payload, parseAudioTag(f.payload).data);
  });

  // PAT and PMT come first, and again right before the key frame's packets.
  const psiAt = events.filter((e) => e.type === 'pat').map((e) => e.packetIndex);
  assert.equal(psiAt[0], 0);
  for (const pes of videoPes.filter((p) => p.randomAccess)) assert.ok(psiAt.includes(pes.packetIndex - 2));
  const pmt = events.find((e): e is TsPmtEvent => e.type === 'pmt')!.pmt;
  assert.deepEqual(
    { pcrPid: pmt.pcrPid, streams: pmt.streams.map((s) => [s.streamType, s.pid]) },
    {
      pcrPid: 0x100,
      streams: [
        [0x1b, 0x100],
        [0x0f, 0x101],
      ],
    },
  );
});

test('the bytes depend only on the frames: two muxers give the same output', () => {
  const frames = framesFromFlv(xFlv());
  assert.deepEqual(muxAll(frames), muxAll(frames));
});

/** The one-frame H.265 fixture as a sample (without its parameter sets) and its hvcC. */
function hevcFixture(): { hvcc: Buffer; sample: Buffer; withParams: Buffer } {
  const nalus = splitAnnexB(codecFixture('h265-main-1280x720.hevc'));
  const vcl = nalus.filter((n) => h265NalType(n) < 32 || h265NalType(n) === H265Nal.PrefixSei);
  return {
    hvcc: codecFixture('h265-main-1280x720.hvcc'),
    sample: nalusToLengthPrefixed(vcl),
    withParams: nalusToLengthPrefixed(nalus),
  };
}

for (const framing of ['legacy codec id 12', 'Enhanced RTMP hvc1'] as const) {
  test(`H.265 (${framing}): HEVC AUD, VPS/SPS/PPS before the IRAP, stream type 0x24`, () => {
    const { hvcc, sample } = hevcFixture();
    const legacy = framing === 'legacy codec id 12';
    const frames: TsInputFrame[] = [
      frame(9, 0, legacy ? legacyVideo(12, true, 0, 0, hvcc) : enhancedVideo('hvc1', true, 0, hvcc)),
      frame(9, 0, legacy ? legacyVideo(12, true, 1, 40, sample) : enhancedVideo('hvc1', true, 1, sample, 40)),
      // CodedFramesX: no CTS field.
      frame(9, 40, legacy ? legacyVideo(12, false, 1, 0, sample) : enhancedVideo('hvc1', false, 3, sample)),
    ];
    const muxer = new TsMuxer();
    const d = new TsDemuxer();
    const events = demuxAll(muxAll(frames, muxer), d);
    assert.equal(muxer.videoCodec, 'h265');
    assert.equal(muxer.hasAudio, false);
    const pes = pesEvents(events, 0x100);
    assert.equal(pes.length, 2);
    assert.equal(pes[0]!.streamType, 0x24);
    assert.deepEqual([pes[0]!.pts90k, pes[0]!.dts90k, pes[1]!.pts90k], [3600, 0, 3600]);
    const sampleTypes = splitLengthPrefixed(sample, 4).map((n) => h265NalType(n));
    assert.deepEqual(nalTypes(pes[0]!.data, 'h265'), [
      H265Nal.Aud,
      H265Nal.Vps,
      H265Nal.Sps,
      H265Nal.Pps,
      ...sampleTypes,
    ]);
    // The same IRAP sample flagged inter still gets the parameter sets: the NAL type says IDR.
    assert.deepEqual(nalTypes(pes[1]!.data, 'h265'), [
      H265Nal.Aud,
      H265Nal.Vps,
      H265Nal.Sps,
      H265Nal.Pps,
      ...sampleTypes,
    ]);
    assert.equal(d.stats.continuity.size, 0);
  });
}

test('parameter sets are not repeated when the frame carries them, nor an AUD it has', () => {
  const { hvcc, withParams } = hevcFixture();
  const aud = Buffer.from([0x46, 0x01, 0x50]);
  const withAud = nalusToLengthPrefixed([aud, ...splitLengthPrefixed(withParams, 4)]);
  const frames = [
    frame(9, 0, legacyVideo(12, true, 0, 0, hvcc)),
    frame(9, 0, legacyVideo(12, true, 1, 0, withAud)),
  ];
  const pes = pesEvents(demuxAll(muxAll(frames)), 0x100);
  const own = splitLengthPrefixed(withParams, 4).map((n) => h265NalType(n));
  assert.deepEqual(nalTypes(pes[0]!.data, 'h265'), [H265Nal.Aud, ...own]);
  assert.equal(own.filter((t) => t === H265Nal.Sps).length, 1);
});

test('an inserted H.265 AUD carries the TemporalId of its access unit', () => {
  const { hvcc, sample } = hevcFixture();
  const nalus = splitLengthPrefixed(sample, 4).map((n) => Buffer.from(n));
  // A sub-layer picture: TSA_N (type 2) with nuh_temporal_id_plus1 3, as the first NAL unit.
  const vcl = nalus.find((n) => h265NalType(n) < 32)!;
  vcl[0] = (H265Nal.TsaN << 1) | (vcl[0]! & 0x81);
  vcl[1] = (vcl[1]! & 0xf8) | 3;
  const frames = [
    frame(9, 0, legacyVideo(12, true, 0, 0, hvcc)),
    frame(9, 40, legacyVideo(12, false, 1, 0, nalusToLengthPrefixed([vcl]))),
  ];
  const [pes] = pesEvents(demuxAll(muxAll(frames)), 0x100);
  assert.deepEqual(splitAnnexB(pes!.data)[0], Buffer.from([0x46, 0x03, 0x50]));
});

test('H.264 with 2-byte NAL lengths (lengthSizeMinusOne 1) converts with the record lengthSize', () => {
  const avcc = Buffer.from(codecFixture('h264-baseline-320x240.avcc'));
  avcc[4] = 0xfd; // lengthSizeMinusOne 1
  const nalus = splitAnnexB(codecFixture('h264-baseline-320x240.h264')).filter(
    (n) => h264NalType(n) === H264Nal.Idr,
  );
  const sample = nalusToLengthPrefixed(nalus, 2);
  const frames = [
    frame(9, 1000, enhancedVideo('avc1', true, 0, avcc)),
    frame(9, 1000, enhancedVideo('avc1', true, 1, sample, 0)),
  ];
  const [pes] = pesEvents(demuxAll(muxAll(frames)), 0x100);
  const avc = parseAvcConfig(avcc);
  assert.deepEqual(splitAnnexB(pes!.data), [Buffer.from([0x09, 0xf0]), ...avc.sps, ...avc.pps, ...nalus]);
  assert.equal(pes!.pts90k, 90_000);
});

const aacAsc = (): Buffer => codecFixture('aac-stereo-48000.asc');
const aacRaw = (): Buffer[] => parseAdtsFrames(codecFixture('aac-stereo-48000.aac')).map((f) => f.payload);

test('PMT version_number changes when audio appears after the PMT was sent', () => {
  const xs = framesFromFlv(xFlv()).filter((f) => f.kind === 9);
  const muxer = new TsMuxer();
  const parts = xs.map((f) => muxer.mux(f));
  assert.equal(muxer.hasAudio, false);
  parts.push(muxer.mux(frame(8, 500, aacAudio(true, aacAsc()))));
  assert.equal(muxer.hasAudio, true);
  const afterHeader = muxer.mux(frame(8, 520, aacAudio(false, aacRaw()[0]!)));
  parts.push(afterHeader);
  const pmts = demuxAll(Buffer.concat(parts)).filter((e): e is TsPmtEvent => e.type === 'pmt');
  assert.deepEqual(
    pmts.map((e) => [e.pmt.version, e.pmt.streams.map((s) => s.streamType)]),
    // The version is derived from the tracks (H.264 1, +3 with AAC), not counted.
    [
      [1, [0x1b]],
      [4, [0x1b, 0x0f]],
    ],
  );
  assert.ok(pmts[1]!.pmt.version > pmts[0]!.pmt.version, 'a new version_number');
  // The new PMT is sent at once, before the first audio frame, not at the next key frame.
  assert.equal(packetsOn(afterHeader, 0x1000).length, 1);
  // Learning both tracks before any PSI (ffmpeg's order) gives the same version as learning
  // them one after the other: a late HLS edge writes the same PMT as its owner.
  const full = demuxAll(muxAll(framesFromFlv(xFlv()))).filter((e): e is TsPmtEvent => e.type === 'pmt');
  assert.ok(full.length > 0 && full.every((e) => e.pmt.version === 4));
});

test('the PMT depends on the tracks only, not on the order they were learned in', () => {
  const xs = framesFromFlv(xFlv());
  const vHeader = xs.find((f) => f.kind === 9 && f.isSequenceHeader)!;
  const aHeader = xs.find((f) => f.kind === 8 && f.isSequenceHeader)!;
  const key = xs.find((f) => f.isKeyFrame && !f.isSequenceHeader)!;
  const pmtOf = (frames: TsInputFrame[]): Buffer => {
    const muxer = new TsMuxer();
    for (const f of frames) muxer.mux(f);
    // The key frame's packets start with PAT and PMT.
    return muxer.mux({ ...key, timestampMs: 1000 }).subarray(188, 376);
  };
  const videoFirst = pmtOf([vHeader, key, aHeader]);
  const audioFirst = pmtOf([aHeader, frame(8, 0, aacAudio(false, aacRaw()[0]!)), vHeader]);
  const together = pmtOf([vHeader, aHeader]);
  // Same bytes but the continuity counter.
  const noCc = (b: Buffer): string =>
    Buffer.concat([b.subarray(0, 3), Buffer.of(b[3]! & 0xf0), b.subarray(4)]).toString('hex');
  assert.equal(noCc(videoFirst), noCc(together));
  assert.equal(noCc(audioFirst), noCc(together));
});

test('a codec change changes the version, the same codec again does not', () => {
  const { hvcc, sample } = hevcFixture();
  const xs = framesFromFlv(xFlv()).filter((f) => f.kind === 9);
  const muxer = new TsMuxer();
  const parts = xs.map((f) => muxer.mux(f));
  parts.push(muxer.mux(xs.find((f) => f.isSequenceHeader)!)); // H.264 again: no change
  parts.push(muxer.mux({ ...xs.find((f) => f.isKeyFrame && !f.isSequenceHeader)!, timestampMs: 550 }));
  parts.push(muxer.mux(frame(9, 600, legacyVideo(12, true, 0, 0, hvcc))));
  parts.push(muxer.mux(frame(9, 600, legacyVideo(12, true, 1, 0, sample))));
  assert.equal(muxer.videoCodec, 'h265');
  const pmts = demuxAll(Buffer.concat(parts)).filter((e): e is TsPmtEvent => e.type === 'pmt');
  assert.deepEqual(
    pmts.map((e) => [e.changed, e.pmt.streams[0]!.streamType]),
    [
      [true, 0x1b],
      [false, 0x1b],
      [true, 0x24],
    ],
  );
  // Derived from the tracks: H.264 1, H.265 2.
  assert.deepEqual(
    pmts.map((e) => e.pmt.version),
    [1, 1, 2],
  );
});

test('psiPreamble: empty before the first PSI, then PAT/PMT continuing the counters', () => {
  const frames = framesFromFlv(xFlv());
  const muxer = new TsMuxer();
  assert.equal(muxer.psiPreamble().length, 0);
  let i = 0;
  for (; i < 3; i++) muxer.mux(frames[i]!); // metadata and the two sequence headers: no PSI yet
  assert.equal(muxer.psiPreamble().length, 0);
  // A viewer joins after the first few frames: preamble, then the stream from there on.
  for (; i < 8; i++) muxer.mux(frames[i]!);
  const preamble = muxer.psiPreamble();
  assert.equal(preamble.length, 2 * 188);
  assert.deepEqual(muxer.psiPreamble(), preamble, 'not advanced');
  const rest = Buffer.concat(frames.slice(i).map((f) => muxer.mux(f)));
  // More PSI must follow so the counters can be checked: force one with a reset-free key frame.
  const key = framesFromFlv(xFlv()).find((f) => f.isKeyFrame && !f.isSequenceHeader)!;
  const tail = muxer.mux({ ...key, timestampMs: 600 });
  const d = new TsDemuxer();
  const events = demuxAll(Buffer.concat([preamble, rest, tail]), d);
  assert.equal(d.stats.continuity.size, 0);
  assert.deepEqual(
    events.filter((e) => e.type === 'pat').map((e) => e.packetIndex),
    [0, 2 + rest.length / 188],
  );
  assert.equal(pesEvents(events).length > 0, true);
  const cc = packetsOn(Buffer.concat([preamble, tail]), 0).map((p) => p.cc);
  assert.equal(cc[1], (cc[0]! + 1) & 15);
});

test('resetContinuity: the next output starts with PAT/PMT at counter 0 and a PCR', () => {
  const muxer = new TsMuxer();
  const frames = framesFromFlv(xFlv());
  for (const f of frames) muxer.mux(f);
  muxer.resetContinuity();
  const audio = frames.find((f) => f.kind === 8 && !f.isSequenceHeader)!;
  const out = muxer.mux({ ...audio, timestampMs: 700 });
  // Each PID's first packet: PSI at 0, the adaptation-only PCR packet at 15 (no payload, so
  // the counter that the first video packet will advance to 0), audio at 0.
  assert.deepEqual(
    [0, 0x1000, 0x100, 0x101].map((pid) => packetsOn(out, pid)[0]!.cc),
    [0, 0, 15, 0],
  );
  // The PID 0x100 packet is adaptation-only with the PCR (the PCR PID is video).
  const events = demuxAll(out);
  assert.deepEqual(
    events.filter((e) => e.type === 'pcr').map((e) => [e.pid, e.pcr90k]),
    [[0x100, 700 * 90]],
  );
});

test('audio-only: PCR on the audio PID, PAT/PMT every psiIntervalMs, random access on every frame', () => {
  for (const psiIntervalMs of [1000, 250]) {
    const muxer = new TsMuxer({ psiIntervalMs });
    const raw = aacRaw();
    const frames = [frame(8, 0, aacAudio(true, aacAsc()))];
    // 3 s of 48 kHz AAC: 1024 samples per frame.
    for (let n = 0; n < 141; n++)
      frames.push(frame(8, Math.round((n * 1024 * 1000) / 48000), aacAudio(false, raw[n % raw.length]!)));
    const d = new TsDemuxer();
    const events = demuxAll(muxAll(frames, muxer), d);
    assert.equal(muxer.hasVideo, false);
    const pes = pesEvents(events, 0x101);
    assert.equal(pes.length, 141);
    assert.ok(pes.every((p) => p.randomAccess && p.pcr90k === p.pts90k));
    const pmt = events.find((e): e is TsPmtEvent => e.type === 'pmt')!.pmt;
    assert.equal(pmt.pcrPid, 0x101);
    const patTimes = events
      .filter((e) => e.type === 'pat')
      .map((e) => pes.find((p) => p.packetIndex > e.packetIndex)!.pts90k! / 90);
    assert.equal(patTimes.length, Math.ceil(3000 / psiIntervalMs), `interval ${psiIntervalMs}`);
    for (let k = 1; k < patTimes.length; k++) {
      const gap = patTimes[k]! - patTimes[k - 1]!;
      assert.ok(gap >= psiIntervalMs && gap < psiIntervalMs + 22, `gap ${gap}`);
    }
    assert.equal(d.stats.continuity.size, 0);
  }
});

test('sparse video: audio adds PCR-only packets on the video PID, PCR gaps stay under 100 ms', () => {
  const xs = framesFromFlv(xFlv());
  const vHeader = xs.find((f) => f.kind === 9 && f.isSequenceHeader)!;
  const key = xs.find((f) => f.kind === 9 && f.isKeyFrame && !f.isSequenceHeader)!;
  const raw = aacRaw();
  const frames: TsInputFrame[] = [vHeader, frame(8, 0, aacAudio(true, aacAsc()))];
  // One key frame a second (a slide show), 48 kHz AAC in between, for 3 s.
  for (let n = 0; n < 141; n++) {
    const ms = Math.round((n * 1024 * 1000) / 48000);
    if (frames.filter((f) => f.kind === 9).length <= ms / 1000) frames.push({ ...key, timestampMs: ms });
    frames.push(frame(8, ms, aacAudio(false, raw[n % raw.length]!)));
  }
  const d = new TsDemuxer();
  const events = demuxAll(muxAll(frames), d);
  const pcrs = events.filter((e) => e.type === 'pcr');
  assert.ok(pcrs.every((e) => e.pid === 0x100));
  for (let k = 1; k < pcrs.length; k++) {
    const gap = pcrs[k]!.pcr90k - pcrs[k - 1]!.pcr90k;
    assert.ok(gap >= 0 && gap <= 100 * 90, `PCR gap ${gap / 90} ms`);
  }
  assert.ok(pcrs.length > 30);
  assert.equal(d.stats.continuity.size, 0);
});

test('timestamps past 2^32 ms and the 2^33 PTS wrap', () => {
  const xs = framesFromFlv(xFlv());
  // 2^33 ticks = 95443717.68 ms: frames straddle the wrap.
  const base = Math.floor(PTS_MODULO / 90) - 40;
  for (const offset of [base, 2 ** 32 + 5]) {
    const frames = xs.map((f) =>
      f.isSequenceHeader || f.kind === 18 ? f : { ...f, timestampMs: f.timestampMs + offset },
    );
    const d = new TsDemuxer();
    const pes = pesEvents(demuxAll(muxAll(frames), d));
    const media = frames.filter(
      (f) =>
        !f.isSequenceHeader &&
        f.kind !== 18 &&
        !(f.kind === 9 && parseVideoTag(f.payload).packetType !== 'codedFrames'),
    );
    assert.equal(pes.length, media.length);
    const byPid = (pid: number) => media.filter((f) => f.kind === (pid === 0x100 ? 9 : 8));
    for (const pid of [0x100, 0x101]) {
      pesEvents(pes, pid).forEach((p, i) => {
        const f = byPid(pid)[i]!;
        assert.equal(p.dts90k, wrap33(f.timestampMs * 90));
      });
    }
    if (offset === base)
      assert.ok(pes.some((p) => p.dts90k! < 90_000) && pes.some((p) => p.dts90k! > PTS_MODULO - 90_000));
  }
});

test('unsupported codecs and malformed frames produce nothing, are counted, never throw', () => {
  const muxer = new TsMuxer();
  const out = [
    muxer.mux(frame(8, 0, Buffer.from('2f01020304', 'hex'))), // MP3
    muxer.mux(frame(8, 0, Buffer.from([0x91, ...Buffer.from('Opus'), 1, 2, 3]))), // Enhanced Opus coded frames
    muxer.mux(frame(9, 0, enhancedVideo('av01', true, 1, Buffer.from([1, 2, 3])))),
    muxer.mux(frame(9, 0, enhancedVideo('vp09', true, 0, Buffer.from([1, 2, 3])))),
    muxer.mux(frame(9, 0, Buffer.from([0x12, 0, 0]))), // Sorenson H.263
  ];
  assert.ok(out.every((b) => b.length === 0));
  assert.equal(muxer.stats.unsupportedFrames, 5);
  assert.equal(muxer.stats.unsupportedAudioCodec, 'opus');
  assert.equal(muxer.stats.unsupportedVideoCodec, 'codec id 2');
  assert.equal(muxer.hasAudio || muxer.hasVideo, false);

  const bad = [
    {
      kind: 9,
      timestampMs: 0,
      payload: Buffer.alloc(0),
      isKeyFrame: false,
      isSequenceHeader: false,
    } as const,
    {
      kind: 9,
      timestampMs: 0,
      payload: Buffer.from([0x17, 0x00]),
      isKeyFrame: true,
      isSequenceHeader: true,
    } as const,
    frame(9, 0, legacyVideo(7, true, 0, 0, Buffer.from('02640028', 'hex'))), // avcC version 2
    {
      kind: 8,
      timestampMs: 0,
      payload: Buffer.from([0xaf]),
      isKeyFrame: false,
      isSequenceHeader: false,
    } as const,
    frame(8, 0, aacAudio(true, Buffer.from([0x00, 0x00]))), // object type 0
  ];
  for (const f of bad) assert.equal(muxer.mux(f).length, 0);
  assert.equal(muxer.stats.badFrames, bad.length);
  // Frames before their sequence header.
  const key = framesFromFlv(xFlv()).find((f) => f.isKeyFrame && !f.isSequenceHeader)!;
  assert.equal(muxer.mux(key).length, 0);
  assert.equal(muxer.mux(frame(8, 0, aacAudio(false, Buffer.from([1, 2, 3])))).length, 0);
  assert.equal(muxer.stats.framesWithoutConfig, 2);
  // A NAL length overrunning the sample once the config is known.
  muxer.mux(framesFromFlv(xFlv()).find((f) => f.kind === 9 && f.isSequenceHeader)!);
  assert.equal(
    muxer.mux(frame(9, 0, legacyVideo(7, true, 1, 0, Buffer.from('0000ffff65', 'hex')))).length,
    0,
  );
  assert.equal(muxer.stats.badFrames, bad.length + 1);
  // Script data: nothing.
  assert.equal(
    muxer.mux({
      kind: 18,
      timestampMs: 0,
      payload: Buffer.from([2]),
      isKeyFrame: false,
      isSequenceHeader: false,
    }).length,
    0,
  );
});

test('property: any tag body gives whole packets or nothing, never an exception', () => {
  const xs = framesFromFlv(xFlv());
  const headers = xs.filter((f) => f.isSequenceHeader);
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          kind: fc.constantFrom(8 as const, 9 as const),
          key: fc.boolean(),
          body: fc.uint8Array({ maxLength: 400 }),
        }),
        {
          maxLength: 20,
        },
      ),
      (tags) => {
        const muxer = new TsMuxer();
        for (const h of headers) muxer.mux(h);
        tags.forEach((t, i) => {
          const out = muxer.mux({
            kind: t.kind,
            timestampMs: i * 10,
            payload: Buffer.from(t.body),
            isKeyFrame: t.key,
            isSequenceHeader: false,
          });
          assert.equal(out.length % 188, 0);
          for (let at = 0; at < out.length; at += 188) assert.equal(out[at], 0x47);
        });
      },
    ),
    { numRuns: 300 },
  );
});
