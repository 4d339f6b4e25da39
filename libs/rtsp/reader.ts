import { RtspErrorCode, rtspError } from './errors.ts';
import { contentLength, parseHead } from './head.ts';
import type { RtspHead } from './head.ts';
import type { RtspItem } from './message.ts';

export interface RtspReaderLimits {
  /**
   * Start line + headers + the blank line. Real requests are a few hundred bytes (a SETUP with
   * a long Authorization stays under 1 KiB); 8 KiB is what HTTP servers commonly allow and
   * bounds what a peer can make us hold before a message is even known.
   */
  maxHeaderBytes: number;
  /** Header lines per message: ffmpeg, GStreamer and VLC send under 15. */
  maxHeaderCount: number;
  /**
   * Largest Content-Length: bodies are SDP (a few KiB, RFC 2326 §C) or GET_PARAMETER/
   * SET_PARAMETER text, never media, so 64 KiB is ample.
   */
  maxBodyBytes: number;
}

const DEFAULT_LIMITS: RtspReaderLimits = {
  maxHeaderBytes: 8 * 1024,
  maxHeaderCount: 64,
  maxBodyBytes: 64 * 1024,
};

/** An interleaved frame is '$', a channel byte and a 16-bit length (RFC 2326 §10.12). */
const FRAME_HEADER_BYTES = 4;
const MAX_FRAME_PAYLOAD = 0xffff;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

/** Bytes a message may start with: a method token or 'RTSP/' (RFC 2326 §15.1 token). */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
}

type Mode = 'idle' | 'head' | 'frame-header' | 'payload';

/**
 * Sans-I/O reader for one RTSP connection: requests, responses and '$' interleaved frames,
 * pipelined, split anywhere by TCP. Leading CR/LF between messages is skipped (RFC 2326 §4
 * allows it, and some clients send a bare CRLF as a keep-alive).
 *
 * Payloads and bodies that arrive inside one pushed chunk are views of it (zero-copy; the caller
 * must not reuse that chunk while it holds them); ones that span chunks are copied once, as they
 * arrive, so memory follows what the peer really sent. What is held between pushes is bounded
 * by `maxBufferedBytes` = max(maxHeaderBytes, maxBodyBytes, 65535): one partial head, body or
 * frame at a time.
 *
 * After a ProtocolError the reader is dead: later pushes rethrow the same error.
 */
export class RtspReader {
  readonly limits: RtspReaderLimits;
  readonly maxBufferedBytes: number;
  private mode: Mode = 'idle';
  /** Head bytes (mode 'head') or frame header bytes (mode 'frame-header') seen so far. */
  private stash: Buffer = Buffer.alloc(0);
  private stashLen = 0;
  /** Mode 'payload': what is being completed, how long, and the copies received so far. */
  private pendingHead: RtspHead | null = null;
  private pendingChannel = 0;
  private need = 0;
  private pieces: Buffer[] = [];
  private have = 0;
  private failure: Error | null = null;

  constructor(limits: Partial<RtspReaderLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.maxBufferedBytes = Math.max(this.limits.maxHeaderBytes, this.limits.maxBodyBytes, MAX_FRAME_PAYLOAD);
  }

  /** Bytes of an incomplete head, frame header, body or frame held between pushes. */
  get bufferedBytes(): number {
    return this.mode === 'payload' ? this.have : this.stashLen;
  }

  /** Parses `chunk` and returns the items it completed, in order. Throws ProtocolError. */
  push(chunk: Buffer): RtspItem[] {
    if (this.failure !== null) throw this.failure;
    const out: RtspItem[] = [];
    try {
      let pos = 0;
      while (pos < chunk.length) {
        switch (this.mode) {
          case 'idle':
            pos = this.startItem(chunk, pos, out);
            break;
          case 'head':
            pos = this.continueHead(chunk, pos, out);
            break;
          case 'frame-header':
            pos = this.continueFrameHeader(chunk, pos, out);
            break;
          case 'payload':
            pos = this.continuePayload(chunk, pos, out);
            break;
        }
      }
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.pieces = [];
      throw e;
    }
    return out;
  }

  private startItem(chunk: Buffer, pos: number, out: RtspItem[]): number {
    const b = chunk[pos]!;
    if (b === CR || b === LF) return pos + 1;
    if (b === DOLLAR) {
      if (chunk.length - pos >= FRAME_HEADER_BYTES) {
        return this.startPayload(chunk, pos + FRAME_HEADER_BYTES, frameHeader(chunk, pos), out);
      }
      this.stashBytes(chunk, pos, chunk.length, FRAME_HEADER_BYTES);
      this.mode = 'frame-header';
      return chunk.length;
    }
    if (TOKEN_BYTE[b] !== 1) {
      throw rtspError(RtspErrorCode.BadStartLine, `message starts with byte 0x${b.toString(16)}`);
    }
    const max = this.limits.maxHeaderBytes;
    const limit = Math.min(chunk.length, pos + max);
    const end = findHeadEnd(chunk, pos, limit);
    if (end >= 0) return this.startPayload(chunk, end, this.parseHeadBytes(chunk, pos, end), out);
    if (limit - pos >= max) throw headTooLarge(max);
    this.stashBytes(chunk, pos, chunk.length, max);
    this.mode = 'head';
    return chunk.length;
  }

  private continueHead(chunk: Buffer, pos: number, out: RtspItem[]): number {
    const max = this.limits.maxHeaderBytes;
    const old = this.stashLen;
    const take = Math.min(chunk.length - pos, max - old);
    this.stashBytes(chunk, pos, pos + take, max);
    const end = findHeadEnd(this.stash, Math.max(0, old - 2), this.stashLen);
    if (end < 0) {
      if (this.stashLen >= max) throw headTooLarge(max);
      return pos + take;
    }
    const head = this.parseHeadBytes(this.stash, 0, end);
    this.stashLen = 0;
    this.stash = Buffer.alloc(0);
    return this.startPayload(chunk, pos + (end - old), head, out);
  }

  private continueFrameHeader(chunk: Buffer, pos: number, out: RtspItem[]): number {
    const old = this.stashLen;
    const take = Math.min(chunk.length - pos, FRAME_HEADER_BYTES - old);
    this.stashBytes(chunk, pos, pos + take, FRAME_HEADER_BYTES);
    if (this.stashLen < FRAME_HEADER_BYTES) return pos + take;
    const channel = frameHeader(this.stash, 0);
    this.stashLen = 0;
    return this.startPayload(chunk, pos + take, channel, out);
  }

  /**
   * Begins a body (after a head) or a frame payload (after a frame header, `what` is then
   * { channel, length }): emitted at once when it is all in `chunk`, else collected.
   */
  private startPayload(chunk: Buffer, pos: number, what: RtspHead | Frame, out: RtspItem[]): number {
    const length = 'kind' in what ? contentLength(what.headers, this.limits.maxBodyBytes) : what.length;
    if (chunk.length - pos >= length) {
      const payload = length === 0 ? Buffer.alloc(0) : chunk.subarray(pos, pos + length);
      this.mode = 'idle';
      out.push(toItem(what, payload));
      return pos + length;
    }
    this.mode = 'payload';
    this.need = length;
    this.have = 0;
    this.pieces = [];
    if ('kind' in what) this.pendingHead = what;
    else {
      this.pendingHead = null;
      this.pendingChannel = what.channel;
    }
    return this.continuePayload(chunk, pos, out);
  }

  private continuePayload(chunk: Buffer, pos: number, out: RtspItem[]): number {
    const take = Math.min(chunk.length - pos, this.need - this.have);
    // A copy: `chunk` is the caller's (a socket read buffer) and is gone after this push.
    this.pieces.push(Buffer.from(chunk.subarray(pos, pos + take)));
    this.have += take;
    if (this.have < this.need) return pos + take;
    const payload = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.need);
    const what: RtspHead | Frame = this.pendingHead ?? { channel: this.pendingChannel, length: this.need };
    this.pieces = [];
    this.have = 0;
    this.pendingHead = null;
    this.mode = 'idle';
    out.push(toItem(what, payload));
    return pos + take;
  }

  private parseHeadBytes(buf: Buffer, start: number, end: number): RtspHead {
    let stop = end;
    while (stop > start && (buf[stop - 1] === CR || buf[stop - 1] === LF)) stop--;
    return parseHead(buf.toString('utf8', start, stop), this.limits.maxHeaderCount);
  }

  /** Appends chunk[from, to) to the stash, which grows up to `capacity` bytes. */
  private stashBytes(chunk: Buffer, from: number, to: number, capacity: number): void {
    const len = to - from;
    if (this.stash.length < this.stashLen + len) {
      const grown = Buffer.alloc(Math.min(capacity, Math.max(256, (this.stashLen + len) * 2)));
      this.stash.copy(grown, 0, 0, this.stashLen);
      this.stash = grown;
    }
    chunk.copy(this.stash, this.stashLen, from, to);
    this.stashLen += len;
  }
}

interface Frame {
  channel: number;
  length: number;
}

function frameHeader(buf: Buffer, at: number): Frame {
  return { channel: buf[at + 1]!, length: buf.readUInt16BE(at + 2) };
}

function toItem(what: RtspHead | Frame, payload: Buffer): RtspItem {
  if (!('kind' in what)) return { type: 'interleaved', channel: what.channel, payload };
  if (what.kind === 'request') {
    const { method, uri, headers } = what;
    return { type: 'request', request: { method, uri, headers, body: payload } };
  }
  const { status, reason, headers } = what;
  return { type: 'response', response: { status, reason, headers, body: payload } };
}

function headTooLarge(max: number): Error {
  return rtspError(RtspErrorCode.HeaderTooLarge, `start line and headers over ${max} bytes`);
}

/**
 * Index just past the blank line ending a head in buf[from, to), or -1: an LF followed by LF
 * or CRLF. `from` may point inside a line; a terminator needs all its bytes before `to`.
 */
function findHeadEnd(buf: Buffer, from: number, to: number): number {
  let i = buf.indexOf(LF, from);
  while (i >= 0 && i < to) {
    if (i + 1 < to && buf[i + 1] === LF) return i + 2;
    if (i + 2 < to && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}
