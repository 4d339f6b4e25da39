import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { FlvReader, parseVideoTag, TagType, type FlvTag } from '../../../libs/flv/index.ts';

export interface ReceivedTag extends FlvTag {
  atMs: number;
}

/** Collects FLV tags from HTTP-FLV or WebSocket-FLV, as a browser player (flv.js) would see them. */
export class FlvCollector {
  readonly tags: ReceivedTag[] = [];
  readonly reader = new FlvReader();
  readonly startedAt = Date.now();
  bytes = 0;
  /** Raw bytes as received, to hand to ffprobe. */
  readonly chunks: Buffer[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  closed = false;
  error: Error | null = null;
  /** The client's TCP port once connected (how the server's socket for this viewer is found). */
  localPort: number | undefined = undefined;
  private readonly closeWaiters: (() => void)[] = [];
  private stopFn: () => void = () => {};

  feed(d: Buffer): void {
    this.bytes += d.length;
    this.chunks.push(d);
    for (const t of this.reader.push(d)) this.tags.push({ ...t, atMs: Date.now() });
  }

  markClosed(err?: Error): void {
    if (err) this.error = err;
    this.closed = true;
    for (const w of this.closeWaiters.splice(0)) w();
  }

  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.closeWaiters.push(r));
  }

  stop(): void {
    this.stopFn();
  }

  setStop(fn: () => void): void {
    this.stopFn = fn;
  }

  videoTags(): ReceivedTag[] {
    return this.tags.filter((t) => t.type === TagType.Video);
  }

  /** Video tags that are frames (not sequence headers). */
  videoFrames(): { tag: ReceivedTag; key: boolean }[] {
    return this.videoTags()
      .map((tag) => ({ tag, info: parseVideoTag(tag.body) }))
      .filter((x) => !x.info.isSequenceHeader)
      .map((x) => ({ tag: x.tag, key: x.info.isKeyFrame }));
  }

  /** First place where a tag's timestamp is lower than the previous one of the same type. */
  timestampRegression(): string | null {
    const last = new Map<number, number>();
    for (const t of this.tags) {
      if (t.type === TagType.Script) continue;
      const prev = last.get(t.type);
      if (prev !== undefined && t.timestampMs < prev) return `type ${t.type}: ${prev} -> ${t.timestampMs}`;
      last.set(t.type, t.timestampMs);
    }
    return null;
  }
}

/** `ca`: the CA that verifies an https:// server (name included). */
export function httpFlv(url: string, opts: { pauseAfterHeaders?: boolean; ca?: Buffer } = {}): FlvCollector {
  const c = new FlvCollector();
  const onResponse = (res: IncomingMessage): void => {
    c.localPort = res.socket.localPort;
    c.status = res.statusCode ?? 0;
    c.headers = res.headers;
    if (opts.pauseAfterHeaders) {
      res.pause();
      // Stop reading entirely: keep TCP window closed by never resuming.
      res.socket.pause();
    } else {
      res.on('data', (d: Buffer) => c.feed(d));
    }
    res.on('end', () => c.markClosed());
    res.on('error', (e) => c.markClosed(e));
  };
  const req = url.startsWith('https:')
    ? httpsRequest(url, opts.ca ? { ca: opts.ca } : {}, onResponse)
    : request(url, onResponse);
  req.on('error', (e) => c.markClosed(e));
  req.on('close', () => c.markClosed());
  req.end();
  c.setStop(() => req.destroy());
  return c;
}

/**
 * A real player: ffmpeg plays `url` (rtmp://, http://) and writes FLV to its stdout packet by
 * packet, so tag arrival times are those of the player.
 */
export function ffmpegPlayer(url: string): FlvCollector {
  const c = new FlvCollector();
  const proc = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-rw_timeout', '15000000', '-fflags', 'nobuffer'],
      ...['-i', url, '-c', 'copy', '-f', 'flv', '-flush_packets', '1', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
  proc.stdout.on('data', (d: Buffer) => c.feed(d));
  proc.on('exit', (code, signal) =>
    c.markClosed(code === 0 ? undefined : new Error(`ffmpeg exited (${code ?? signal}): ${stderr}`)),
  );
  c.status = 200;
  c.setStop(() => proc.kill('SIGKILL'));
  return c;
}

/** `ca`: the CA that verifies a wss:// server (name included). */
export function wsFlv(url: string, opts: { ca?: Buffer } = {}): FlvCollector {
  const c = new FlvCollector();
  const ws = new WebSocket(url, opts.ca ? { ca: opts.ca } : {});
  ws.binaryType = 'nodebuffer';
  ws.on('upgrade', (res) => {
    c.localPort = res.socket.localPort;
    c.status = res.statusCode ?? 0;
    c.headers = res.headers;
  });
  ws.on('unexpected-response', (_req, res) => {
    c.status = res.statusCode ?? 0;
    c.markClosed(new Error(`unexpected response ${res.statusCode}`));
  });
  ws.on('message', (d: Buffer) => c.feed(d));
  ws.on('close', () => c.markClosed());
  ws.on('error', (e) => c.markClosed(e));
  c.setStop(() => ws.terminate());
  return c;
}
