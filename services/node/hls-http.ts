import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { MediaPath } from '../../libs/http/media-path.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { HlsOutputs } from './hls-outputs.ts';
import type { HlsSessions } from './hls-sessions.ts';
export { segmentOf, SEGMENT_DIR_SUFFIX } from './hls-paths.ts';
import type { NodeHooks, PlayDecision } from './hooks.ts';

export interface HlsHttpDeps {
  outputs: HlsOutputs;
  sessions: HlsSessions;
  hooks: NodeHooks;
  counters: Counters;
  log: Logger;
  firstPlaylistWaitMs: number;
  /** Segments are immutable: caches may keep them this long. */
  segmentMaxAgeS: number;
  /**
   * Whether HLS plays are checked (auth): segment URLs then carry the player's session token and
   * a segment request without a valid one is refused, so the check cannot be skipped.
   */
  segmentsNeedSession: boolean;
  /**
   * The auth IP lists for a request that shows a session token (true: allowed). A token is a
   * bearer credential; without this, one handed to a denied address would play there.
   */
  clientAllowed?: (remote: string) => boolean;
}

/**
 * HLS over the media HTTP port. A player's first playlist request opens a session and is
 * redirected to the same URL with `session=<id>`; its later playlist requests keep the session
 * alive. Segment URLs carry no session, so they are the same for every player and every edge
 * (cacheable by a CDN), unless plays are checked (auth): then each player's segment URLs carry its
 * session token, which segment requests must show.
 */
export class HlsHttp {
  private readonly d: HlsHttpDeps;

  constructor(d: HlsHttpDeps) {
    this.d = d;
  }

  async playlist(
    req: IncomingMessage,
    res: ServerResponse,
    mp: MediaPath,
    headers: Record<string, string>,
    remote: string,
  ): Promise<void> {
    const sessions = this.d.sessions;
    const token = mp.query.session;
    if (token && this.d.clientAllowed && !this.d.clientAllowed(remote)) {
      this.d.counters.inc('play_refused', 1, { proto: 'hls' });
      text(res, 403, headers, 'client address denied');
      return;
    }
    if (token && sessions.isRevoked(token)) {
      this.d.counters.inc('play_refused', 1, { proto: 'hls' });
      text(res, 403, headers, 'session ended');
      return;
    }
    let session = token ? sessions.touch(token, mp.key) : undefined;
    if (!session && token && sessions.verify(token, mp.key)) {
      // A player back with a token we signed for this key (authorized when it was issued).
      const opened = sessions.open(token, mp.key, remote, userAgentOf(req));
      if (typeof opened === 'string') {
        this.d.counters.inc('hls_sessions_refused', 1, { reason: opened });
        this.d.log.warn({ stream: mp.key, remote, reason: opened }, 'hls session refused');
        res
          .writeHead(opened === 'node-full' ? 503 : 429, {
            ...headers,
            'Retry-After': '5',
            'Content-Type': 'text/plain',
          })
          .end(opened === 'node-full' ? 'server full\n' : 'too many sessions from this address\n');
        return;
      }
      session = opened;
    }
    if (!session) {
      await this.redirectToSession(res, mp, headers, remote, userAgentOf(req));
      return;
    }
    session.pending++;
    let ready: boolean;
    try {
      ready = await this.d.outputs.waitPlaylist(mp.key, this.d.firstPlaylistWaitMs);
    } finally {
      session.pending--;
    }
    const body = ready ? this.d.outputs.get(mp.key)?.livePlaylist : null;
    if (res.destroyed) return;
    if (!body) {
      this.d.counters.inc('http_not_found');
      text(res, 404, headers, 'playlist not available');
      return;
    }
    const buf = Buffer.from(this.d.segmentsNeedSession ? withSession(body, session.token) : body);
    // The wait counts as activity: the session's clock starts again when the answer goes out.
    session.lastSeen = Date.now();
    session.bytesOut += buf.length;
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'application/vnd.apple.mpegurl',
      'Content-Length': String(buf.length),
    });
    res.end(req.method === 'HEAD' ? undefined : buf);
  }

  /** Authorizes a new player and sends it to its session URL (its live one if it has one). */
  private async redirectToSession(
    res: ServerResponse,
    mp: MediaPath,
    headers: Record<string, string>,
    remote: string,
    userAgent: string,
  ): Promise<void> {
    let decision: PlayDecision;
    try {
      decision = (await this.d.hooks.authorizePlay?.({
        key: mp.key,
        query: mp.query,
        connectProps: {},
        sessionId: '',
        remote,
        protocol: 'hls',
      })) ?? { ok: true, kind: 'player' };
    } catch (err) {
      this.d.log.error({ stream: mp.key, err }, 'play authorization failed');
      decision = { ok: false, status: 500, description: 'internal error' };
    }
    if (res.destroyed) return; // the player left while we were deciding
    if (!decision.ok) {
      this.d.counters.inc('play_refused', 1, { proto: 'hls' });
      this.d.log.warn({ stream: mp.key, remote, why: decision.description }, 'play refused');
      text(res, decision.status ?? 403, headers, decision.description);
      return;
    }
    const sessions = this.d.sessions;
    const token =
      sessions.liveTokenOf(remote.slice(0, remote.lastIndexOf(':')), userAgent, mp.key) ??
      sessions.issue(mp.key);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(mp.query)) if (k !== 'session') q.set(k, v);
    q.set('session', token);
    res
      .writeHead(302, { ...headers, Location: `${mp.name}.m3u8?${q.toString()}`, 'Content-Length': '0' })
      .end();
  }

  async segment(
    req: IncomingMessage,
    res: ServerResponse,
    seg: { key: string; file: string },
    headers: Record<string, string>,
    session: string | undefined,
    remote: string,
  ): Promise<void> {
    // A kicked session's token is refused here too, not only on its playlist.
    const sessions = this.d.sessions;
    const allowed = this.d.clientAllowed?.(remote) ?? true;
    if (
      this.d.segmentsNeedSession &&
      !(allowed && session && !sessions.isRevoked(session) && sessions.verify(session, seg.key))
    ) {
      this.d.counters.inc('hls_segments_refused');
      text(res, 403, headers, 'segment needs the session of an authorized playlist');
      return;
    }
    const hls = this.d.outputs.get(seg.key);
    const bytes = hls ? await hls.readSegment(seg.file) : null;
    if (res.destroyed) return;
    if (!bytes) {
      this.d.counters.inc('http_not_found');
      text(res, 404, headers, 'segment not found');
      return;
    }
    this.d.counters.inc('hls_segments_served');
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'video/mp2t',
      'Content-Length': String(bytes.length),
      // A segment's name is unique on its owner's timeline and its bytes never change.
      'Cache-Control': `public, max-age=${this.d.segmentMaxAgeS}, immutable`,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}

const userAgentOf = (req: IncomingMessage): string => String(req.headers['user-agent'] ?? '');

function text(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain' }).end(`${body}\n`);
}

/** The playlist with `session=<token>` on every segment URI (the lines that are not tags). */
export function withSession(playlist: string, token: string): string {
  const q = `session=${encodeURIComponent(token)}`;
  return playlist
    .split('\n')
    .map((line) =>
      line === '' || line.startsWith('#') ? line : `${line}${line.includes('?') ? '&' : '?'}${q}`,
    )
    .join('\n');
}
