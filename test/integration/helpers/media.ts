import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MEDIA_DIR = join(tmpdir(), 'sluice-test-media');

export interface TestMediaSpec {
  durationS: number;
  width: number;
  height: number;
  fps: number;
  /** Key frame interval in frames. */
  gop: number;
  videoKbps?: number;
}

/**
 * An H.264 + AAC FLV made with ffmpeg (testsrc2 + sine), cached per spec in the temp dir.
 * Fixed GOP, no scene-cut key frames, so frame counts and key frame positions are known.
 */
export async function makeTestFlv(spec: TestMediaSpec): Promise<string> {
  mkdirSync(MEDIA_DIR, { recursive: true });
  const rate = spec.videoKbps ?? 500;
  const name = `t${spec.durationS}s-${spec.width}x${spec.height}-${spec.fps}fps-g${spec.gop}-${rate}k.flv`;
  const file = join(MEDIA_DIR, name);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.flv`;
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    String(spec.durationS),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(spec.gop),
    '-keyint_min',
    String(spec.gop),
    '-sc_threshold',
    '0',
    '-b:v',
    `${rate}k`,
    '-maxrate',
    `${rate}k`,
    '-bufsize',
    `${rate * 2}k`,
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-ac',
    '2',
    '-f',
    'flv',
    tmp,
  ]);
  renameSync(tmp, file);
  return file;
}

export interface Child {
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

function child(args: string[]): Child {
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 64 * 1024) err = err.slice(-32 * 1024);
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    exited,
    stderr: () => err,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/**
 * ffmpeg's TLS options (rtmps://, https://): verify the server against `caFile`, the name too.
 * The rtmp protocol passes them on to the TLS connection under it.
 */
export const tlsVerifyArgs = (caFile: string): string[] => ['-tls_verify', '1', '-ca_file', caFile];

/** `ffmpeg -re -i file -c copy -f flv url`: a real-time RTMP (or RTMPS) publisher. */
export function publish(
  file: string,
  url: string,
  opts: { loop?: boolean; outputArgs?: string[] } = {},
): Child {
  return child([
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    ...(opts.loop ? ['-stream_loop', '-1'] : []),
    '-i',
    file,
    '-c',
    'copy',
    ...(opts.outputArgs ?? []),
    '-f',
    'flv',
    url,
  ]);
}

/** Plays `url` and stores what arrives as FLV (stream copy) for `seconds` (or until the stream ends). */
export function capture(url: string, out: string, opts: { seconds?: number } = {}): Child {
  return child([
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-rw_timeout',
    '15000000',
    '-i',
    url,
    ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
    '-c',
    'copy',
    '-f',
    'flv',
    out,
  ]);
}

export interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

export interface ProbePacket {
  stream_index: number;
  pts_time?: string;
  dts_time?: string;
  flags: string;
}

export async function probe(
  target: string,
  /** `readSeconds`: stop after this much of the input (a live stream never ends by itself). */
  opts: { packets?: boolean; timeoutMs?: number; readSeconds?: number; inputArgs?: string[] } = {},
): Promise<{ streams: ProbeStream[]; packets: ProbePacket[] }> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rw_timeout',
      '15000000',
      '-show_streams',
      ...(opts.packets ? ['-show_packets'] : []),
      ...(opts.readSeconds ? ['-read_intervals', `%+${opts.readSeconds}`] : []),
      ...(opts.inputArgs ?? []),
      '-of',
      'json',
      target,
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 30_000 },
  );
  const j = JSON.parse(stdout) as { streams?: ProbeStream[]; packets?: ProbePacket[] };
  return { streams: j.streams ?? [], packets: j.packets ?? [] };
}

/** Per-stream DTS must never go back; returns the first violation or null. */
export function firstTimestampRegression(packets: ProbePacket[]): string | null {
  const last = new Map<number, number>();
  for (const p of packets) {
    const t = Number(p.dts_time ?? p.pts_time);
    if (!Number.isFinite(t)) continue;
    const prev = last.get(p.stream_index);
    if (prev !== undefined && t < prev) return `stream ${p.stream_index}: ${prev} -> ${t}`;
    last.set(p.stream_index, t);
  }
  return null;
}
