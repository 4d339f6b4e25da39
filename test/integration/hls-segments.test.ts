import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvReader, parseAudioTag, parseVideoTag } from '../../libs/flv/index.ts';
import { CleanupMode } from '../../libs/hls/cleanup.ts';
import { HlsStream, LIVE_PLAYLIST_NAME } from '../../libs/hls/hls-stream.ts';
import type { HlsSegment } from '../../libs/hls/segment.ts';
import { DiskSegmentStore } from '../../libs/hls/store-disk.ts';
import { TsDemuxer, type TsPesEvent } from '../../libs/mpegts/demuxer.ts';
import type { TsInputFrame } from '../../libs/mpegts/muxer.ts';
import { silentLogger } from '../../libs/log/logger.ts';
import { makeTestFlv } from './helpers/media.ts';

// Real peers: ffmpeg makes the FLV (H.264 + AAC, a key frame every 25 frames at 25 fps, 10 s);
// its tags go through an HlsStream onto disk; ffmpeg and ffprobe play and decode the result.
const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'sluice-hls-peer-'));
const TARGET_MS = 2000;
const GOP_MS = 1000;
let dir: string;
const segments: HlsSegment[] = [];

/** FLV tags as the stream hub would hold them (flags as services/node/classify.ts sets them). */
function framesOf(flv: Buffer): TsInputFrame[] {
  const out: TsInputFrame[] = [];
  for (const tag of new FlvReader().push(flv)) {
    if (tag.type === 9) {
      const v = parseVideoTag(tag.body);
      out.push({
        kind: 9,
        timestampMs: tag.timestampMs,
        payload: tag.body,
        isSequenceHeader: v.isSequenceHeader,
        isKeyFrame: v.isKeyFrame && !v.isSequenceHeader,
      });
    } else if (tag.type === 8) {
      const a = parseAudioTag(tag.body);
      out.push({
        kind: 8,
        timestampMs: tag.timestampMs,
        payload: tag.body,
        isSequenceHeader: a.isSequenceHeader,
        isKeyFrame: false,
      });
    }
  }
  return out;
}

async function ffmpegErrors(input: string): Promise<string> {
  const { stdout, stderr } = await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-i',
    input,
    '-f',
    'null',
    '-',
  ]);
  return stdout + stderr;
}

async function probeJson(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

before(async () => {
  const flv = await makeTestFlv({ durationS: 10, width: 320, height: 240, fps: 25, gop: 25 });
  const store = new DiskSegmentStore({ root, log: silentLogger() });
  dir = store.streamDir('live', 'peer');
  const h = new HlsStream({
    app: 'live',
    name: 'peer',
    mode: 'lead',
    prefix: 'peer-1-',
    targetMs: TARGET_MS,
    listSize: 10,
    cleanupMode: CleanupMode.Never,
    store,
    log: silentLogger(),
    onSegmentClosed: (s) => segments.push(s),
  });
  for (const f of framesOf(readFileSync(flv))) h.push(f);
  h.end();
  await h.flush();
  assert.equal(h.stats.writeErrors, 0);
  h.dispose();
});

after(() => rmSync(root, { recursive: true, force: true }));

test('the playlist plays in ffmpeg without a single error, every frame decoded', async () => {
  const playlist = join(dir, LIVE_PLAYLIST_NAME);
  assert.equal(await ffmpegErrors(playlist), '');
  const probe = await probeJson([
    '-count_frames',
    '-show_entries',
    'stream=codec_type,nb_read_frames',
    playlist,
  ]);
  const streams = probe.streams as { codec_type: string; nb_read_frames: string }[];
  const video = streams.find((s) => s.codec_type === 'video')!;
  assert.equal(Number(video.nb_read_frames), 250, '10 s at 25 fps');
  assert.ok(streams.some((s) => s.codec_type === 'audio'));
  const text = readFileSync(playlist, 'utf8');
  assert.ok(text.endsWith('#EXT-X-ENDLIST\n'));
  assert.deepEqual(
    text.split('\n').filter((l) => l.endsWith('.ts')),
    segments.map((s) => s.name),
  );
});

test('each segment lasts the target within a key frame interval, and decodes alone', async () => {
  assert.equal(segments.length, 5);
  const onDisk = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.equal(onDisk.length, segments.length);
  for (const s of segments) {
    const file = join(dir, s.name);
    assert.ok(Math.abs(s.durationMs - TARGET_MS) <= GOP_MS, `${s.name}: EXTINF ${s.durationMs} ms`);
    const probe = await probeJson([
      '-count_frames',
      '-show_entries',
      'format=duration:stream=codec_type,nb_read_frames',
      file,
    ]);
    const seconds = Number((probe.format as { duration: string }).duration);
    assert.ok(Math.abs(seconds * 1000 - TARGET_MS) <= GOP_MS, `${s.name}: ffprobe says ${seconds} s`);
    // Alone: no decoder error, and every video frame of its 2 s decoded (it starts on a key frame).
    assert.equal(await ffmpegErrors(file), '', s.name);
    const video = (probe.streams as { codec_type: string; nb_read_frames: string }[]).find(
      (x) => x.codec_type === 'video',
    )!;
    assert.equal(Number(video.nb_read_frames), 50, `${s.name} video frames`);
    assert.equal(s.independent, true);
  }
});

test('every segment starts with PAT and PMT, its counters restart at 0, the demuxer finds no error', () => {
  for (const s of segments) {
    const bytes = readFileSync(join(dir, s.name));
    assert.ok(bytes.equals(s.bytes));
    const demuxer = new TsDemuxer();
    const events = [...demuxer.push(bytes), ...demuxer.end()];
    assert.equal(events[0]?.type, 'pat', `${s.name} starts with PAT`);
    assert.equal(events[0]!.packetIndex, 0);
    assert.equal(events[1]?.type, 'pmt', `${s.name} has PMT second`);
    assert.equal(events[1]!.packetIndex, 1);
    assert.equal(demuxer.stats.packets * 188, bytes.length);
    assert.equal(demuxer.stats.continuity.size, 0, `${s.name}: continuity errors`);
    assert.equal(demuxer.stats.crcErrors + demuxer.stats.badPackets + demuxer.stats.skippedBytes, 0);
    assert.ok(!events.some((e) => e.type === 'discontinuity'));
    const video = events.filter((e): e is TsPesEvent => e.type === 'pes' && e.pid === 0x100);
    assert.equal(video.length, 50);
    assert.ok(
      video[0]!.randomAccess && video[0]!.pcr90k !== null,
      `${s.name} opens on a key frame with a PCR`,
    );
    assert.equal(video[0]!.dts90k, s.startMs * 90);
    // The demuxer checks counters continue; that they start at 0 is read from the headers.
    const first = new Map<number, number>();
    for (let at = 0; at < bytes.length; at += 188) {
      const pid = ((bytes[at + 1]! & 0x1f) << 8) | bytes[at + 2]!;
      if ((bytes[at + 3]! & 0x10) !== 0 && !first.has(pid)) first.set(pid, bytes[at + 3]! & 0x0f);
    }
    assert.deepEqual(
      [...first].sort((a, b) => a[0] - b[0]),
      [
        [0, 0],
        [0x100, 0],
        [0x101, 0],
        [0x1000, 0],
      ],
    );
  }
});
