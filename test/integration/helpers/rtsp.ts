import { execFile, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { Child } from './media.ts';

const run = promisify(execFile);

function child(cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const keep = (d: Buffer): void => {
    err += d.toString();
    if (err.length > 256 * 1024) err = err.slice(-128 * 1024);
  };
  proc.stderr!.on('data', keep);
  proc.stdout!.on('data', keep);
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

/** `ffmpeg -re -i file -c copy -f rtsp`: a real-time RTSP publisher (ANNOUNCE/RECORD). */
export function rtspPublish(
  file: string,
  url: string,
  transport: 'tcp' | 'udp',
  /** `codecArgs` replace `-c copy` (an encoder for a lavfi source). */
  opts: { loop?: boolean; inputArgs?: string[]; codecArgs?: string[] } = {},
): Child {
  return child('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    ...(opts.loop ? ['-stream_loop', '-1'] : []),
    ...(opts.inputArgs ?? []),
    '-i',
    file,
    ...(opts.codecArgs ?? ['-c', 'copy']),
    '-f',
    'rtsp',
    '-rtsp_transport',
    transport,
    url,
  ]);
}

export interface Decoded {
  /** What ffmpeg printed at level error (nothing: a clean decode). */
  errors: string;
  /** Decoded frames per stream type. */
  video: number;
  exitCode: number | null;
}

/**
 * Plays `url` with ffmpeg for `seconds` of media, decoding everything (`-f null`), and counts the
 * decoded frames from the final progress report.
 */
export async function decodeWithFfmpeg(
  url: string,
  seconds: number,
  inputArgs: string[] = [],
): Promise<Decoded> {
  const c = child('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-stats_period',
    '0.5',
    '-progress',
    'pipe:1',
    ...inputArgs,
    '-i',
    url,
    '-t',
    String(seconds),
    '-map',
    '0:v?',
    '-map',
    '0:a?',
    '-f',
    'null',
    '-',
  ]);
  const timer = setTimeout(() => void c.kill(), (seconds + 25) * 1000);
  const code = await c.exited;
  clearTimeout(timer);
  const out = c.stderr();
  const frames = [...out.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
  const errors = out
    .split('\n')
    .filter((l) => l && !/^[a-z_0-9]+=/.test(l))
    .join('\n')
    .trim();
  return { errors, video: frames.at(-1) ?? 0, exitCode: code };
}

/** ffprobe packet counts per codec type over `seconds` of a live URL. */
export async function probePackets(
  url: string,
  seconds: number,
  inputArgs: string[] = [],
): Promise<{ video: number; audio: number; codecs: string[] }> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      ...inputArgs,
      '-read_intervals',
      `%+${seconds}`,
      '-show_entries',
      'packet=codec_type:stream=codec_name',
      '-of',
      'json',
      url,
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: (seconds + 25) * 1000 },
  );
  const j = JSON.parse(stdout) as { packets?: { codec_type: string }[]; streams?: { codec_name: string }[] };
  const packets = j.packets ?? [];
  return {
    video: packets.filter((p) => p.codec_type === 'video').length,
    audio: packets.filter((p) => p.codec_type === 'audio').length,
    codecs: (j.streams ?? []).map((s) => s.codec_name),
  };
}

/**
 * GStreamer's rtspsrc as an independent player: decodes H.264 video and AAC audio for
 * `seconds` and counts the buffers that reached each fakesink.
 */
export async function gstreamerPlay(
  url: string,
  seconds: number,
  protocol: 'tcp' | 'udp',
  video: 'h264' | 'h265' = 'h264',
): Promise<{ video: number; audio: number; errors: string }> {
  const c = child('gst-launch-1.0', [
    '-v',
    'rtspsrc',
    `location=${url}`,
    `protocols=${protocol}`,
    'latency=200',
    'name=src',
    'src.',
    '!',
    `rtp${video}depay`,
    '!',
    `${video}parse`,
    '!',
    `avdec_${video}`,
    '!',
    'fakesink',
    'name=vsink',
    'silent=false',
    'sync=false',
    'src.',
    '!',
    'rtpmp4gdepay',
    '!',
    'aacparse',
    '!',
    'avdec_aac',
    '!',
    'fakesink',
    'name=asink',
    'silent=false',
    'sync=false',
  ]);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // What it said while playing; what it says while being stopped is not the server's doing.
  const out = c.stderr();
  await c.kill('SIGINT');
  const count = (sink: string): number => out.split(`(${sink}:sink)`).length - 1;
  const errors = out
    .split('\n')
    .filter((l) => /^ERROR|ERROR:/.test(l))
    .join('\n');
  return { video: count('vsink'), audio: count('asink'), errors };
}

export interface RtspAnswer {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
}

/**
 * A bare RTSP client for protocol-level tests: sends requests, reads answers, counts the
 * interleaved bytes that arrive between them.
 */
export class RawRtsp {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private waiters: ((a: RtspAnswer) => void)[] = [];
  private cseq = 0;
  interleavedBytes = 0;
  interleavedPackets = 0;
  closed = false;
  readonly channels = new Map<number, number>();
  /** Every interleaved packet as it arrives. */
  onPacket: ((channel: number, packet: Buffer) => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawRtsp> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawRtsp(s)));
      s.once('error', reject);
    });
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length >= 4 && this.buf[0] === 0x24) {
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        const ch = this.buf[1]!;
        this.channels.set(ch, (this.channels.get(ch) ?? 0) + 1);
        this.interleavedBytes += len;
        this.interleavedPackets++;
        this.onPacket?.(ch, this.buf.subarray(4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string[]>();
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim().toLowerCase();
        headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
      }
      const len = Number(headers.get('content-length')?.[0] ?? 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len);
      this.buf = this.buf.subarray(end + 4 + len);
      const status = Number(head[0]!.split(' ')[1]);
      this.waiters.shift()?.({ status, headers, body });
    }
  }

  /** Sends one request and resolves with its answer (rejects if the connection closes first). */
  request(
    method: string,
    uri: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<RtspAnswer> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.cseq}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${body.length}`);
    this.socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body ?? Buffer.alloc(0)]));
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.socket.once('close', () => reject(new Error(`connection closed before the answer to ${method}`)));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
