import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { ProtocolError } from '../errors/protocol-error.ts';
import { FlvReader } from './reader.ts';
import type { FlvTag } from './tag.ts';

export interface HttpFlvClientOptions {
  /** Bound on connect + response headers + the FLV header (default 10000). */
  timeoutMs?: number;
  /** Largest FLV tag accepted (FlvReader's cap): what one response can make us buffer. */
  maxTagSize?: number;
  /** https: a private CA for tests, or rejectUnauthorized. */
  tls?: Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
}

/** A failed HTTP-FLV pull: HTTP_STATUS, HTTP_TIMEOUT, HTTP_CLOSED, FLV_* (the reader's) or a socket code. */
export class HttpFlvClientError extends Error {
  override readonly name = 'HttpFlvClientError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Plays one HTTP(S)-FLV URL (lal, SRS, nginx-flv, another Sluice): GET, a 200 answer, then FLV
 * tags to `onTag` as the body arrives. The body is parsed as it is read, so nothing is held but
 * one incomplete tag (bounded by maxTagSize). `open()` resolves once the FLV header has arrived.
 */
export class HttpFlvClient {
  onTag: ((tag: FlvTag) => void) | null = null;
  /** Once, however it ends: null for close(), the error otherwise (the server ended the body too). */
  onClose: ((err: Error | null) => void) | null = null;
  private readonly url: URL;
  private readonly opts: HttpFlvClientOptions;
  private readonly reader: FlvReader;
  private req: ClientRequest | null = null;
  private res: IncomingMessage | null = null;
  private totalIn = 0;
  private closed = false;

  constructor(url: string, opts: HttpFlvClientOptions = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch (e) {
      throw new HttpFlvClientError('HTTP_BAD_URL', 'not a URL', { cause: e });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new HttpFlvClientError('HTTP_BAD_URL', `unsupported scheme ${u.protocol} (http: or https:)`);
    this.url = u;
    this.opts = opts;
    this.reader = new FlvReader(opts.maxTagSize !== undefined ? { maxTagSize: opts.maxTagSize } : {});
  }

  get bytesIn(): number {
    return this.totalIn;
  }

  /** Connects and resolves once the response is 200 and the FLV header has been read. */
  open(): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      const fail = (err: Error): void => {
        if (!opened) {
          opened = true;
          clearTimeout(timer);
          reject(err);
        }
        this.finish(err);
      };
      const timer = setTimeout(
        () => fail(new HttpFlvClientError('HTTP_TIMEOUT', `no FLV header within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
      const secure = this.url.protocol === 'https:';
      const make = secure ? httpsRequest : httpRequest;
      const req = make(this.url, { method: 'GET', ...(secure ? this.opts.tls : {}) }, (res) => {
        this.res = res;
        if (res.statusCode !== 200) {
          res.resume();
          fail(new HttpFlvClientError('HTTP_STATUS', `HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        res.on('data', (chunk: Buffer) => {
          if (this.closed) return;
          this.totalIn += chunk.length;
          let tags: FlvTag[];
          try {
            tags = this.reader.push(chunk);
          } catch (e) {
            const err = e as Error;
            fail(err instanceof ProtocolError ? new HttpFlvClientError(err.code, err.message) : err);
            return;
          }
          if (!opened && this.reader.header) {
            opened = true;
            clearTimeout(timer);
            resolve();
          }
          for (const t of tags) {
            if (this.closed) return;
            this.onTag?.(t);
          }
        });
        res.on('end', () => fail(new HttpFlvClientError('HTTP_CLOSED', 'the server ended the stream')));
        res.on('error', (e) => fail(e));
      });
      req.on('error', (e) => fail(e));
      req.end();
      this.req = req;
    });
  }

  /** Ends the request; onClose(null). */
  close(): void {
    this.finish(null);
  }

  private finish(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.res?.destroy();
    this.req?.destroy();
    this.onClose?.(err);
  }
}
