import { Agent, get as httpGet, type ClientRequest, type IncomingMessage } from 'node:http';
import { SYNC_BYTE, TS_PACKET_SIZE } from '../../libs/mpegts/index.ts';
import { MAX_PLAYLIST_BYTES, parseMediaPlaylist, type MediaPlaylist } from './hls-playlist.ts';
import { PlaylistFollower } from './playlist-follower.ts';
import { describeError, newPlayerStats, type BenchPlayer } from './players.ts';
/** How often the shared poller looks for clients whose playlist poll is due. */
const TICK_MS = 50;
/** Redirects followed in a row before the poll counts as failed (a loop, not a session). */
const MAX_REDIRECTS = 3;

/** Counters of one HLS client; `late`, `skipped`, `slow` and the gap are per segment. */
export interface HlsCounters {
  polls: number;
  segments: number;
  /** New segments that certainly appeared more than LATE_FACTOR x target after the previous one (PlaylistFollower). */
  late: number;
  /** Segments that left the playlist before this client saw them (its polls were too slow). */
  skipped: number;
  /** Segment downloads that took longer than the target duration. */
  slow: number;
}

export interface HlsClientStats {
  counters: HlsCounters;
  /** Failed requests (status, network, timeout, bad playlist or segment) over the whole run. */
  errors: number;
  errorCodes: Map<string, number>;
  /** Largest certain gap between two segments' appearances, ms (-1 before two). */
  maxGapMs: number;
  /** Slowest segment download, ms. */
  maxDownloadMs: number;
  /** EXT-X-TARGETDURATION of the last playlist, seconds (-1 before one). */
  targetDurationS: number;
}

/**
 * One keep-alive agent for every HLS client with a bounded number of sockets: HLS requests are
 * short, and a thousand players on a thousand sockets would measure the bench's socket handling.
 */
export function hlsAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
}

/**
 * An HLS player as far as the server can tell: follows the session redirect, polls the playlist
 * every target duration / 2 (on a fixed schedule, driven by the shared HlsPoller), downloads each
 * new segment once and in order, starting from the newest one listed first. Bodies are counted,
 * never kept, except the playlist text.
 */
export class HlsBenchClient implements BenchPlayer {
  readonly stats = newPlayerStats();
  readonly hls: HlsClientStats = {
    counters: { polls: 0, segments: 0, late: 0, skipped: 0, slow: 0 },
    errors: 0,
    errorCodes: new Map(),
    maxGapMs: -1,
    maxDownloadMs: 0,
    targetDurationS: -1,
  };
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private playlistUrl: URL;
  private received = 0;
  /** performance.now() of the next playlist poll; Infinity until the first playlist. */
  private dueAt = Infinity;
  private periodMs = 0;
  private pollReq: ClientRequest | null = null;
  private segReq: ClientRequest | null = null;
  private readonly follower = new PlaylistFollower();
  private readonly queue: URL[] = [];
  private redirects = 0;

  constructor(url: string, agent: Agent, timeoutMs: number) {
    this.agent = agent;
    this.timeoutMs = timeoutMs;
    this.playlistUrl = new URL(url);
    this.poll(performance.now());
  }

  get bytesIn(): number {
    return this.received;
  }

  /** Called by the poller: starts a playlist poll when one is due and none is in flight. */
  tick(now: number): void {
    if (now < this.dueAt || this.stats.stopped) return;
    this.dueAt += this.periodMs;
    // Far behind (a poll took several periods): resume the schedule from now.
    if (this.dueAt < now) this.dueAt = now + this.periodMs;
    if (this.pollReq === null) this.poll(now);
  }

  stop(): void {
    this.stats.stopped = true;
    this.pollReq?.destroy();
    this.segReq?.destroy();
  }

  private poll(sentAt: number): void {
    this.hls.counters.polls++;
    this.pollReq = this.request(this.playlistUrl, MAX_PLAYLIST_BYTES, (err, res, body) => {
      this.pollReq = null;
      if (err) return this.error(err);
      const status = res!.statusCode ?? 0;
      if ((status === 302 || status === 301) && res!.headers.location) {
        if (++this.redirects > MAX_REDIRECTS) return this.error('TOO_MANY_REDIRECTS');
        // The session redirect: the playlist URL from now on. Later, the session expired.
        if (this.follower.newestMsn >= 0) this.error('SESSION_LOST');
        this.playlistUrl = new URL(res!.headers.location, this.playlistUrl);
        this.poll(sentAt);
        return;
      }
      this.redirects = 0;
      if (status !== 200) return this.error(`HTTP ${status}`);
      let pl: MediaPlaylist;
      try {
        pl = parseMediaPlaylist(body!.toString('utf8'));
      } catch (e) {
        return this.error(describeError(e));
      }
      this.onPlaylist(pl, sentAt, performance.now());
    });
  }

  private onPlaylist(pl: MediaPlaylist, sentAt: number, recvAt: number): void {
    this.hls.targetDurationS = pl.targetDurationS;
    this.periodMs = (pl.targetDurationS * 1000) / 2;
    if (this.stats.connectMs < 0) {
      this.stats.connectMs = recvAt - this.stats.startedAt;
      this.stats.failure = null; // an earlier attempt failed, this one worked (counted in errors)
      this.dueAt = recvAt + this.periodMs;
    }
    const step = this.follower.update(pl, sentAt, recvAt);
    const c = this.hls.counters;
    if (step.late) c.late++;
    c.skipped += step.skipped;
    if (step.gapMs !== null && step.gapMs > this.hls.maxGapMs) this.hls.maxGapMs = step.gapMs;
    for (const uri of step.fetch) this.queue.push(new URL(uri, this.playlistUrl));
    if (this.segReq === null) this.nextSegment();
  }

  private nextSegment(): void {
    const url = this.queue.shift();
    if (!url || this.stats.stopped) return;
    const startedAt = performance.now();
    let bytes = 0;
    let badByte = false;
    this.segReq = this.request(
      url,
      -1,
      (err, res) => {
        this.segReq = null;
        if (err) this.error(err);
        else if (res!.statusCode !== 200) this.error(`HTTP ${res!.statusCode}`);
        else if (badByte || bytes === 0 || bytes % TS_PACKET_SIZE !== 0) this.error('HLS_BAD_SEGMENT');
        else this.onSegment(startedAt);
        this.nextSegment();
      },
      (d) => {
        if (bytes === 0 && d[0] !== SYNC_BYTE) badByte = true;
        bytes += d.length;
        this.received += d.length;
      },
    );
  }

  private onSegment(startedAt: number): void {
    const now = performance.now();
    const c = this.hls.counters;
    c.segments++;
    if (this.stats.firstKeyFrameMs < 0) this.stats.firstKeyFrameMs = now - this.stats.startedAt;
    const ms = now - startedAt;
    if (ms > this.hls.maxDownloadMs) this.hls.maxDownloadMs = ms;
    if (ms > this.hls.targetDurationS * 1000) c.slow++;
  }

  private error(code: string): void {
    if (this.stats.stopped) return;
    this.hls.errors++;
    this.hls.errorCodes.set(code, (this.hls.errorCodes.get(code) ?? 0) + 1);
    if (this.stats.connectMs < 0) {
      // Not started: the first poll failed; try again at the next tick of a 1 s schedule.
      this.stats.failure = code;
      if (this.pollReq === null && this.periodMs === 0) {
        this.periodMs = 1000;
        this.dueAt = performance.now() + this.periodMs;
      }
    }
  }

  /**
   * GET `url` on the shared agent. `maxBody` >= 0 keeps the body (bounded), -1 only passes the
   * chunks to `onData`. `done` runs once: with an error code, or with the response (and body).
   */
  private request(
    url: URL,
    maxBody: number,
    done: (err: string | null, res?: IncomingMessage, body?: Buffer) => void,
    onData?: (d: Buffer) => void,
  ): ClientRequest {
    let finished = false;
    const finish = (err: string | null, res?: IncomingMessage, body?: Buffer): void => {
      if (finished) return;
      finished = true;
      if (!this.stats.stopped) done(err, res, body);
    };
    const req = httpGet(url, { agent: this.agent, timeout: this.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        if (onData) return onData(d);
        size += d.length;
        if (size > maxBody) {
          req.destroy(Object.assign(new Error('body too large'), { code: 'BODY_TOO_LARGE' }));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => finish(null, res, Buffer.concat(chunks)));
      res.on('error', (e) => finish(describeError(e)));
      // After 'end' this is a no-op; before it, the body was cut short.
      res.on('close', () => finish('BODY_CUT'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => finish(describeError(e)));
    return req;
  }
}

/** One timer for all HLS clients: each tick starts the polls that are due. */
export class HlsPoller {
  private readonly clients: HlsBenchClient[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const c of this.clients) c.tick(now);
    }, TICK_MS);
  }

  add(c: HlsBenchClient): HlsBenchClient {
    this.clients.push(c);
    return c;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
