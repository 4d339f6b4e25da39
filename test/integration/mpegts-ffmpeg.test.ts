import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvReader, parseAudioTag, parseVideoTag } from '../../libs/flv/index.ts';
import { TsDemuxer, TsMuxer } from '../../libs/mpegts/index.ts';
import type { TsInputFrame } from '../../libs/mpegts/index.ts';
import { hevcVideoTags, makeHevcSource, type HevcSource } from './helpers/hevc-source.ts';

// libs/mpegts against ffmpeg: ffmpeg writes the source FLV, TsMuxer turns its tags into a .ts,
// and ffprobe/ffmpeg read that back (streams, frame counts, every packet's PTS/DTS, decoding).
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sluice-mpegts-'));
const HEVC_FRAMES = 50;
let hevc: HevcSource;

before(async () => {
  hevc = await makeHevcSource(dir, HEVC_FRAMES);
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function ffmpeg(args: string[]): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-y', ...args], { timeout: 60_000 });
  return stderr;
}

interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  start_time: string;
  nb_read_frames: string;
}

interface ProbePacket {
  stream_index: number;
  pts: number;
  dts: number;
}

/** Streams (with decoded frame counts) and every packet's timestamps, in seconds. */
async function probe(file: string): Promise<{
  streams: ProbeStream[];
  packets: Map<string, { pts: number; dts: number }[]>;
}> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-show_streams', '-show_packets', '-of', 'json', file],
    { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const json = JSON.parse(stdout) as {
    streams: (ProbeStream & { time_base: string })[];
    packets: ProbePacket[];
  };
  const packets = new Map<string, { pts: number; dts: number }[]>();
  for (const s of json.streams) {
    const [num, den] = s.time_base.split('/').map(Number);
    const seconds = (t: number): number => (t * num!) / den!;
    packets.set(
      s.codec_type,
      json.packets
        .filter((p) => p.stream_index === s.index)
        .map((p) => ({ pts: seconds(p.pts), dts: seconds(p.dts) })),
    );
  }
  return { streams: json.streams, packets };
}

/** FLV tags as the stream hub hands them to the muxer. */
function flvFrames(flv: Buffer): TsInputFrame[] {
  return new FlvReader().push(flv).map((t) => {
    const kind = t.type as 8 | 9 | 18;
    const v = kind === 9 ? parseVideoTag(t.body) : null;
    const isSequenceHeader = v ? v.isSequenceHeader : kind === 8 && parseAudioTag(t.body).isSequenceHeader;
    return {
      kind,
      timestampMs: t.timestampMs,
      payload: t.body,
      isKeyFrame: v?.isKeyFrame ?? false,
      isSequenceHeader,
    };
  });
}

/** Muxes the frames into `name`.ts; checks the output with our demuxer too (no CC errors). */
function writeTs(name: string, frames: readonly TsInputFrame[]): { file: string; muxer: TsMuxer } {
  const muxer = new TsMuxer();
  const ts = Buffer.concat(frames.map((f) => muxer.mux(f)));
  assert.equal(ts.length % 188, 0);
  const d = new TsDemuxer();
  d.push(ts);
  d.end();
  assert.equal(d.stats.continuity.size, 0);
  assert.equal(d.stats.packets, ts.length / 188);
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, ts);
  return { file, muxer };
}

/** `ffmpeg -v error` decoding the whole file prints nothing when there are no decoder errors. */
async function assertDecodesClean(file: string): Promise<void> {
  const stderr = await ffmpeg(['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(stderr, '', `decoder errors in ${file}`);
}

const closeTo = (a: number, b: number, eps = 1e-6): boolean => Math.abs(a - b) < eps;

test('H.264 (B-frames) + AAC from an ffmpeg FLV: streams, frame counts, PTS/DTS, A/V sync, clean decode', async () => {
  const flvFile = join(dir, 'avc.flv');
  await ffmpeg([
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=f=440',
    '-c:v',
    'libx264',
    '-g',
    '50',
    '-bf',
    '2',
    '-c:a',
    'aac',
    '-t',
    '4',
    '-f',
    'flv',
    flvFile,
  ]);
  const frames = flvFrames(readFileSync(flvFile));
  assert.ok(
    frames.some((f) => f.kind === 9 && parseVideoTag(f.payload).compositionTimeMs > 0),
    'B-frames in the source',
  );
  const { file, muxer } = writeTs('avc', frames);
  assert.equal(muxer.stats.badFrames + muxer.stats.unsupportedFrames + muxer.stats.framesWithoutConfig, 0);

  const [src, out] = await Promise.all([probe(flvFile), probe(file)]);
  assert.deepEqual(out.streams.map((s) => [s.codec_type, s.codec_name]).sort(), [
    ['audio', 'aac'],
    ['video', 'h264'],
  ]);
  for (const type of ['video', 'audio']) {
    const a = src.streams.find((s) => s.codec_type === type)!;
    const b = out.streams.find((s) => s.codec_type === type)!;
    assert.ok(
      Math.abs(Number(a.nb_read_frames) - Number(b.nb_read_frames)) <= 1,
      `${type} frames ${a.nb_read_frames} vs ${b.nb_read_frames}`,
    );
    assert.ok(
      Math.abs(Number(a.start_time) - Number(b.start_time)) < 0.1,
      `${type} start ${a.start_time} vs ${b.start_time}`,
    );
    // Every packet keeps its PTS and DTS (ms in FLV, 90 kHz in TS: the same seconds).
    const pa = src.packets.get(type)!;
    const pb = out.packets.get(type)!;
    assert.equal(pb.length, pa.length, `${type} packets`);
    pa.forEach((p, i) => {
      assert.ok(
        closeTo(p.pts, pb[i]!.pts) && closeTo(p.dts, pb[i]!.dts),
        `${type} packet ${i}: ${JSON.stringify([p, pb[i]])}`,
      );
    });
  }
  const video = out.packets.get('video')!;
  assert.ok(
    video.some((p) => p.pts !== p.dts),
    'PTS differs from DTS in the TS too',
  );
  await assertDecodesClean(file);
});

for (const framing of ['legacy', 'enhanced'] as const) {
  test(`H.265 (${framing === 'legacy' ? 'codec id 12' : 'Enhanced RTMP hvc1'}) muxed to TS decodes with ffmpeg`, async () => {
    const frames = hevcVideoTags(hevc, framing).map((payload, i): TsInputFrame => ({
      kind: 9,
      timestampMs: Math.max(0, i - 1) * 40,
      payload,
      isKeyFrame: i === 0 || hevc.accessUnits[i - 1]!.key,
      isSequenceHeader: i === 0,
    }));
    const { file, muxer } = writeTs(`hevc-${framing}`, frames);
    assert.equal(muxer.videoCodec, 'h265');
    const out = await probe(file);
    assert.equal(out.streams.length, 1);
    const s = out.streams[0]!;
    assert.deepEqual(
      [s.codec_name, s.width, s.height, Number(s.nb_read_frames)],
      ['hevc', 320, 240, HEVC_FRAMES],
    );
    const packets = out.packets.get('video')!;
    assert.equal(packets.length, HEVC_FRAMES);
    packets.forEach((p, i) => assert.ok(closeTo(p.pts, i * 0.04) && closeTo(p.dts, i * 0.04), `packet ${i}`));
    await assertDecodesClean(file);
  });
}

test('audio-only AAC from an ffmpeg FLV: frame count, PTS, clean decode', async () => {
  const flvFile = join(dir, 'aac.flv');
  await ffmpeg([
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=f=440:sample_rate=48000',
    '-c:a',
    'aac',
    '-t',
    '4',
    '-f',
    'flv',
    flvFile,
  ]);
  const { file, muxer } = writeTs('aac', flvFrames(readFileSync(flvFile)));
  assert.deepEqual([muxer.hasAudio, muxer.hasVideo], [true, false]);
  const [src, out] = await Promise.all([probe(flvFile), probe(file)]);
  assert.deepEqual(
    out.streams.map((s) => s.codec_name),
    ['aac'],
  );
  assert.ok(Math.abs(Number(src.streams[0]!.nb_read_frames) - Number(out.streams[0]!.nb_read_frames)) <= 1);
  assert.ok(Math.abs(Number(src.streams[0]!.start_time) - Number(out.streams[0]!.start_time)) < 0.1);
  const pa = src.packets.get('audio')!;
  const pb = out.packets.get('audio')!;
  assert.equal(pb.length, pa.length);
  pa.forEach((p, i) => assert.ok(closeTo(p.pts, pb[i]!.pts), `audio packet ${i}`));
  await assertDecodesClean(file);
});
