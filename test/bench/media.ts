import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { FlvReader, TagType, type FlvTag } from '../../libs/flv/index.ts';

/** AAC bitrate of the bench media; the video gets the rest of --bitrate. */
export const AUDIO_KBPS = 64;
const MEDIA_SECONDS = 30;
const FPS = 25;
const GOP_SECONDS = 2;

export interface BenchMedia {
  file: string;
  /** Script, audio and video tags in file order. */
  tags: FlvTag[];
  /** Timestamp span of one pass, plus one frame: the offset added per loop. */
  loopMs: number;
  /** Payload bytes per second of the file, for the report. */
  fileKbps: number;
}

/**
 * The bench stream: testsrc2 640x360 at 25 fps, x264 at (bitrate - 64) kbps with a
 * capped VBV, a key frame every 2 s, 64 kbps AAC, 30 s. Made once per bitrate with ffmpeg
 * and cached in `dir` (gitignored), so runs compare like with like.
 */
export function loadBenchMedia(dir: string, bitrateKbps: number): BenchMedia {
  mkdirSync(dir, { recursive: true });
  const videoKbps = Math.max(50, bitrateKbps - AUDIO_KBPS);
  const file = join(dir, `testsrc2-640x360-${bitrateKbps}k.flv`);
  if (!existsSync(file)) {
    const tmp = `${file}.partial`;
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${FPS}`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(MEDIA_SECONDS),
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      '-b:v', `${videoKbps}k`, '-maxrate', `${videoKbps}k`, '-bufsize', `${videoKbps}k`,
      '-g', String(FPS * GOP_SECONDS), '-keyint_min', String(FPS * GOP_SECONDS), '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`,
      '-f', 'flv', tmp,
    ];
    const r = spawnSync('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    if (r.error) throw new Error(`cannot run ffmpeg to make the bench media: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`ffmpeg failed (${r.status}): ${String(r.stderr).trim()}`);
    renameSync(tmp, file);
  }
  const tags = new FlvReader().push(readFileSync(file));
  const last = tags.reduce((m, t) => Math.max(m, t.timestampMs), 0);
  const loopMs = last + Math.round(1000 / FPS);
  const bytes = tags.filter((t) => t.type !== TagType.Script).reduce((n, t) => n + t.body.length, 0);
  return { file, tags, loopMs, fileKbps: Math.round((bytes * 8) / loopMs) };
}
