import { randomBytes } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { isProtocolError } from '../errors/protocol-error.ts';
import { parseRtcp, parseRtpPacket, interleavedHeader } from '../rtp/index.ts';
import type { RtspCredential } from './auth.ts';
import { RtspClientAuth } from './client-auth.ts';
import { RtspClientError, RtspClientErrorCode } from './client-errors.ts';
import { PendingRequests } from './client-pending.ts';
import { receiverReport, TrackReception } from './client-reception.ts';
import { bindClientPair, type ClientUdpPair } from './client-udp.ts';
import { requestUrl } from './client-url.ts';
import { RtspHeaders, type RtspResponse } from './message.ts';
import { RtspReader, type RtspReaderLimits } from './reader.ts';
import { parseSdp, type SdpMedia } from './sdp.ts';
import { trackCodec, type TrackCodec } from './sdp-codec.ts';
import { parseSessionHeader } from './session-header.ts';
import { parseTransports, formatTransport } from './transport.ts';
import { parseRtspUrl, resolveControl, type RtspUrl } from './url.ts';
import { serializeRequest, serializeResponse } from './writer.ts';

/** One track of the DESCRIBE answer. */
export interface RtspClientTrack {
  index: number;
  media: SdpMedia;
  codec: TrackCodec;
  /** The URL its SETUP goes to. */
  url: string;
}

export interface RtspClientOptions {
  /** rtsp:// or rtsps://, credentials (percent-encoded) in the userinfo if needed. */
  url: string;
  transport?: 'tcp' | 'udp';
  /** Every request (and the connect) must be answered within this. */
  requestTimeoutMs?: number;
  /** Playing, no RTP on any track for this long ends the session. */
  readTimeoutMs?: number;
  /** TLS options for rtsps:// (ca, rejectUnauthorized...). */
  tls?: ConnectionOptions;
  userAgent?: string;
  readerLimits?: Partial<RtspReaderLimits>;
  onTracks?(tracks: RtspClientTrack[]): void;
  onRtp?(track: number, packet: Buffer): void;
  onRtcp?(track: number, packet: Buffer): void;
  /** Once, when the session is over: null after close(), else why it failed. */
  onClose?(err: Error | null): void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** RFC 2326 §12.37: a Session header without timeout= means 60 s. */
const DEFAULT_SESSION_TIMEOUT_S = 60;
/** RFC 3550 §6.2 suggests about 5 s between reports at these rates. */
const RR_INTERVAL_MS = 5_000;
/** TEARDOWN is a courtesy: never wait long for its answer. */
const TEARDOWN_WAIT_MS = 2_000;

interface TrackSetup {
  index: number;
  reception: TrackReception;
  /** TCP: the channels the server confirmed. */
  channels: [number, number] | null;
  /** UDP: our pair and the server's RTCP port. */
  pair: ClientUdpPair | null;
  serverRtcpPort: number | null;
}

type State = 'idle' | 'connecting' | 'ready' | 'playing' | 'closing' | 'closed';

/**
 * An RTSP/1.0 client session (RFC 2326) that plays one URL: OPTIONS, DESCRIBE (answering a
 * Basic or Digest challenge once per challenge), SETUP per chosen track over TCP interleaved or
 * UDP, PLAY; then keep-alives every Session timeout / 2, receiver reports every 5 s, and a read
 * timeout. close() sends TEARDOWN. Every failure ends the session and is reported once through
 * onClose (and rejects the open()/play() call in progress): ProtocolError for a malformed peer,
 * RtspClientError otherwise.
 */
export class RtspClient {
  private readonly opts: RtspClientOptions;
  private readonly url: RtspUrl;
  private readonly baseUrl: string;
  private readonly credential: RtspCredential | null;
  private readonly requestTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly reader: RtspReader;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private socket: Socket | null = null;
  private state: State = 'idle';
  private cseq = 0;
  private readonly pending = new PendingRequests();
  private auth: RtspClientAuth | null = null;
  private tracks: RtspClientTrack[] = [];
  private readonly setups = new Map<number, TrackSetup>();
  /** Interleaved channel -> [track index, is RTCP]. */
  private readonly channels = new Map<number, [number, boolean]>();
  private controlBase = '';
  private aggregateUrl = '';
  private session: { id: string; timeoutS: number } | null = null;
  private publicMethods: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private lastRtpAt = 0;
  private failure: Error | null = null;
  private remoteHost = '';
  bytesIn = 0;

  constructor(opts: RtspClientOptions) {
    this.opts = opts;
    this.url = parseRtspUrl(opts.url); // ProtocolError RTSP_BAD_URL
    this.baseUrl = requestUrl(opts.url);
    this.credential =
      this.url.username !== undefined
        ? { username: this.url.username, password: this.url.password ?? '' }
        : null;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.reader = new RtspReader(opts.readerLimits);
  }

  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The Session id once SETUP answered. */
  get sessionId(): string | null {
    return this.session?.id ?? null;
  }

  /** Milliseconds between keep-alives (Session timeout / 2). */
  get keepaliveMs(): number {
    return ((this.session?.timeoutS ?? DEFAULT_SESSION_TIMEOUT_S) * 1000) / 2;
  }

  get transport(): 'tcp' | 'udp' {
    return this.opts.transport ?? 'tcp';
  }

  /** Connects, OPTIONS, DESCRIBE: the tracks the server offers. */
  async open(): Promise<RtspClientTrack[]> {
    if (this.state !== 'idle') throw new Error('RtspClient.open called twice');
    this.state = 'connecting';
    return this.guard(async () => {
      await this.connect();
      const options = await this.request('OPTIONS', this.baseUrl);
      // Some cameras answer OPTIONS with an error and still play: only a 401 matters here.
      this.publicMethods = (options.headers.get('public') ?? '')
        .split(',')
        .map((m) => m.trim().toUpperCase())
        .filter((m) => m !== '');
      const res = this.expectOk(
        'DESCRIBE',
        await this.request('DESCRIBE', this.baseUrl, [['Accept', 'application/sdp']]),
      );
      const sdp = parseSdp(res.body.toString('utf8'));
      // RFC 2326 §C.1.1: Content-Base, else Content-Location, else the request URL.
      this.controlBase =
        res.headers.get('content-base') ?? res.headers.get('content-location') ?? this.baseUrl;
      this.aggregateUrl =
        sdp.control !== undefined && sdp.control !== '*'
          ? resolveControl(this.controlBase, sdp.control)
          : this.controlBase;
      this.tracks = sdp.media.map((media, index) => ({
        index,
        media,
        codec: trackCodec(media),
        url: resolveControl(this.controlBase, media.control ?? ''),
      }));
      this.state = 'ready';
      this.opts.onTracks?.(this.tracks);
      return this.tracks;
    });
  }

  /** SETUP of each track in `indexes`, then PLAY; media flows to onRtp/onRtcp from here on. */
  async play(indexes: number[]): Promise<void> {
    if (this.state !== 'ready') throw new Error(`RtspClient.play in state ${this.state}`);
    return this.guard(async () => {
      if (indexes.length === 0) throw new RtspClientError(RtspClientErrorCode.NoTracks, 'no track to set up');
      for (const [n, index] of indexes.entries()) {
        const track = this.tracks[index];
        if (!track) throw new RtspClientError(RtspClientErrorCode.NoTracks, `no track ${index}`);
        await this.setup(track, n);
      }
      this.expectOk('PLAY', await this.request('PLAY', this.aggregateUrl, [['Range', 'npt=0.000-']]));
      this.state = 'playing';
      this.lastRtpAt = performance.now();
      this.startTimers();
    });
  }

  /** TEARDOWN (answer awaited briefly), then the connection is closed; onClose(null). */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const hadSession = this.session !== null && this.failure === null && this.socket?.writable === true;
    this.state = 'closing';
    this.clearTimers();
    if (hadSession) {
      const teardown = this.request('TEARDOWN', this.aggregateUrl).catch(() => undefined);
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        teardown,
        new Promise((r) => (t = setTimeout(r, Math.min(this.requestTimeoutMs, TEARDOWN_WAIT_MS)))),
      ]);
      clearTimeout(t);
    }
    this.finish(null);
  }

  /** Ends the session at once with `err` (reported through onClose). */
  destroy(err: Error): void {
    this.finish(err);
  }

  /** Runs a step; any failure ends the session (once) and is rethrown to the caller. */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      const out = await step();
      if (this.failure) throw this.failure;
      return out;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.finish(err);
      throw this.failure ?? err;
    }
  }

  private connect(): Promise<void> {
    const { host, port, secure } = this.url;
    return new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.on('error', (e) => this.finish(networkError(e, `${host}:${port}`)));
        this.remoteHost = socket.remoteAddress ?? host;
        resolve();
      };
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(networkError(e, `${host}:${port}`));
      };
      const socket: Socket = secure
        ? tlsConnect(
            { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...this.opts.tls },
            onConnect,
          )
        : netConnect({ host, port }, onConnect);
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RtspClientError(
            RtspClientErrorCode.Timeout,
            `connect to ${host}:${port} timed out after ${this.requestTimeoutMs} ms`,
          ),
        );
      }, this.requestTimeoutMs);
      socket.once('error', onError);
      socket.on('error', () => {}); // errors after the first are the same failure
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => {
        if (this.state !== 'closing' && this.state !== 'closed') {
          this.finish(new RtspClientError(RtspClientErrorCode.Closed, 'the server closed the connection'));
        }
      });
    });
  }

  private async setup(track: RtspClientTrack, n: number): Promise<void> {
    const reception = new TrackReception();
    let transport: string;
    let pair: ClientUdpPair | null = null;
    if (this.transport === 'tcp') {
      transport = formatTransport({ protocol: 'tcp', multicast: false, interleaved: [2 * n, 2 * n + 1] });
    } else {
      try {
        pair = await bindClientPair(
          this.remoteHost.includes(':') && !this.remoteHost.startsWith('::ffff:') ? 'udp6' : 'udp4',
        );
      } catch (e) {
        throw new RtspClientError(
          RtspClientErrorCode.UdpBind,
          `binding a UDP port pair: ${(e as Error).message}`,
          { cause: e },
        );
      }
      transport = formatTransport({
        protocol: 'udp',
        multicast: false,
        clientPort: [pair.rtpPort, pair.rtpPort + 1],
      });
    }
    const setup: TrackSetup = { index: track.index, reception, channels: null, pair, serverRtcpPort: null };
    // Registered before the answer: its close() is then part of finish().
    this.setups.set(track.index, setup);
    const res = this.expectOk('SETUP', await this.request('SETUP', track.url, [['Transport', transport]]));
    const sessionValue = res.headers.get('session');
    if (sessionValue !== undefined) {
      const s = parseSessionHeader(sessionValue);
      this.session ??= { id: s.id, timeoutS: s.timeoutS ?? DEFAULT_SESSION_TIMEOUT_S };
    } else if (!this.session) {
      throw new RtspClientError(RtspClientErrorCode.Status, 'SETUP answered without a Session header', {
        status: res.status,
      });
    }
    const answer = res.headers.get('transport');
    const t = answer !== undefined ? parseTransports(answer)[0] : undefined;
    if (this.transport === 'tcp') {
      // The server may pick other channels (§12.39); without an answer we keep ours.
      const ch = t?.interleaved ?? [2 * n, 2 * n + 1];
      setup.channels = ch;
      this.channels.set(ch[0], [track.index, false]);
      this.channels.set(ch[1], [track.index, true]);
    } else {
      if (t && t.protocol !== 'udp') {
        throw new RtspClientError(
          RtspClientErrorCode.NoTracks,
          `SETUP asked for UDP, the server answered ${answer}`,
        );
      }
      setup.serverRtcpPort = t?.serverPort?.[1] ?? null;
      this.listenUdp(setup, pair!);
    }
  }

  private listenUdp(setup: TrackSetup, pair: ClientUdpPair): void {
    // Only the server's datagrams count (RFC 2326 §14.3 source): nothing else enters a stream.
    const fromServer = (addr: string): boolean => stripV4Mapped(addr) === stripV4Mapped(this.remoteHost);
    pair.rtp.on('message', (msg: Buffer, rinfo) => {
      if (fromServer(rinfo.address)) this.media(setup, msg, false);
    });
    pair.rtcp.on('message', (msg: Buffer, rinfo) => {
      if (fromServer(rinfo.address)) this.media(setup, msg, true);
    });
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.bytesIn += chunk.length;
    let items;
    try {
      items = this.reader.push(chunk);
    } catch (e) {
      this.finish(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const item of items) {
      if (this.isClosed) return; // an answer (or a packet's consumer) ended the session
      if (item.type === 'response') this.pending.answer(item.response);
      else if (item.type === 'request')
        this.answerServer(item.request.method, item.request.headers.get('cseq'));
      else {
        const ch = this.channels.get(item.channel);
        const setup = ch ? this.setups.get(ch[0]) : undefined;
        if (ch && setup) this.media(setup, item.payload, ch[1]);
      }
    }
  }

  /** A request from the server (RFC 2326 §10: OPTIONS as a keep-alive, ANNOUNCE, SET_PARAMETER...). */
  private answerServer(method: string, cseq: string | undefined): void {
    const headers = new RtspHeaders();
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) headers.set('CSeq', cseq);
    const ok = method === 'OPTIONS' || method === 'GET_PARAMETER';
    this.socket?.write(serializeResponse({ status: ok ? 200 : 501, headers }));
  }

  private media(setup: TrackSetup, packet: Buffer, rtcp: boolean): void {
    if (this.state !== 'playing' && this.state !== 'ready') return;
    if (rtcp) {
      try {
        for (const p of parseRtcp(packet)) {
          if (p.type === 'sr') setup.reception.senderReport(p.ntpMsw, p.ntpLsw, performance.now());
        }
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        return; // a malformed report is dropped; it never carries media
      }
      this.opts.onRtcp?.(setup.index, packet);
      return;
    }
    try {
      const p = parseRtpPacket(packet);
      setup.reception.rtp(p.ssrc, p.sequenceNumber);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      // The consumer sees it too and counts it; the session goes on.
    }
    this.lastRtpAt = performance.now();
    this.opts.onRtp?.(setup.index, packet);
  }

  private startTimers(): void {
    const keepalive = setInterval(() => void this.keepalive(), Math.max(1000, this.keepaliveMs));
    const rr = setInterval(() => this.sendReports(), RR_INTERVAL_MS);
    const watch = setInterval(
      () => {
        if (this.state !== 'playing') return;
        const idle = performance.now() - this.lastRtpAt;
        if (idle > this.readTimeoutMs) {
          this.finish(
            new RtspClientError(RtspClientErrorCode.ReadTimeout, `no RTP for ${Math.round(idle)} ms`),
          );
        }
      },
      Math.max(100, Math.min(1000, this.readTimeoutMs / 4)),
    );
    this.timers = [keepalive, rr, watch];
    for (const t of this.timers) t.unref();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** GET_PARAMETER when the server lists it (RFC 2326 §10.8), else OPTIONS (what most clients do). */
  private async keepalive(): Promise<void> {
    if (this.state !== 'playing') return;
    const method = this.publicMethods.includes('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
    try {
      const res = await this.request(method, this.aggregateUrl);
      if (res.status === 405 || res.status === 501) {
        this.publicMethods = this.publicMethods.filter((m) => m !== 'GET_PARAMETER');
      } else {
        this.expectOk(method, res);
      }
    } catch (e) {
      this.finish(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private sendReports(): void {
    if (this.state !== 'playing') return;
    const now = performance.now();
    for (const s of this.setups.values()) {
      const rr = receiverReport(this.ssrc, s.reception, now);
      if (!rr) continue;
      if (s.channels && this.socket?.writable) {
        this.socket.write(Buffer.concat([interleavedHeader(s.channels[1], rr.length), rr]));
      } else if (s.pair && s.serverRtcpPort !== null) {
        s.pair.rtcp.send(rr, s.serverRtcpPort, stripV4Mapped(this.remoteHost));
      }
    }
  }

  /**
   * Sends a request and resolves with its answer. A 401 is answered once with the credentials of
   * the URL (Digest preferred); a second 401 to the same request is an auth failure.
   */
  private async request(method: string, uri: string, extra: [string, string][] = []): Promise<RtspResponse> {
    for (let attempt = 0; ; attempt++) {
      const headers = new RtspHeaders([['CSeq', String(++this.cseq)], ...extra]);
      headers.set('User-Agent', this.opts.userAgent ?? 'sluice');
      if (this.session) headers.set('Session', this.session.id);
      if (this.auth) headers.set('Authorization', this.auth.authorization(method, uri));
      const res = await this.exchange(method, uri, headers);
      if (res.status !== 401) return res;
      const challenges = res.headers.getAll('www-authenticate');
      if (!this.credential || attempt > 0 || challenges.length === 0) {
        throw new RtspClientError(
          RtspClientErrorCode.AuthFailed,
          !this.credential
            ? `${method} needs credentials and the URL has none`
            : `${method}: credentials refused (401)`,
          { status: 401 },
        );
      }
      this.auth = new RtspClientAuth(this.credential, challenges); // ProtocolError RTSP_BAD_CHALLENGE
    }
  }

  private exchange(method: string, uri: string, headers: RtspHeaders): Promise<RtspResponse> {
    const socket = this.socket;
    if (!socket || this.state === 'closed' || !socket.writable) {
      return Promise.reject(
        this.failure ?? new RtspClientError(RtspClientErrorCode.Closed, 'the connection is closed'),
      );
    }
    const answered = this.pending.wait(this.cseq, this.requestTimeoutMs, () => {
      const err = new RtspClientError(
        RtspClientErrorCode.Timeout,
        `${method} got no answer in ${this.requestTimeoutMs} ms`,
      );
      queueMicrotask(() => this.finish(err));
      return err;
    });
    socket.write(serializeRequest({ method, uri, headers }));
    return answered;
  }

  private expectOk(method: string, res: RtspResponse): RtspResponse {
    if (res.status >= 200 && res.status < 300) return res;
    throw new RtspClientError(RtspClientErrorCode.Status, `${method} answered ${res.status} ${res.reason}`, {
      status: res.status,
    });
  }

  /** Ends everything once: timers, requests in flight, UDP pairs, the connection; then onClose. */
  private finish(err: Error | null): void {
    if (this.state === 'closed') return;
    const closing = this.state === 'closing';
    this.state = 'closed';
    // An error while closing on purpose (a TEARDOWN that timed out) is not a failure.
    const reported = closing ? null : err;
    this.failure = err ?? new RtspClientError(RtspClientErrorCode.Closed, 'the session is closed');
    this.clearTimers();
    this.pending.rejectAll(this.failure);
    for (const s of this.setups.values()) s.pair?.close();
    this.socket?.destroy();
    this.opts.onClose?.(reported);
  }
}

function networkError(e: Error, where: string): RtspClientError {
  const errno = (e as NodeJS.ErrnoException).code;
  return new RtspClientError(RtspClientErrorCode.Network, `${where}: ${errno ?? e.message}`, { cause: e });
}

function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
