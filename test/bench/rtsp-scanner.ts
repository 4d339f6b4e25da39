import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { INTERLEAVED_HEADER_BYTES, INTERLEAVED_MAGIC } from '../../libs/rtp/interleaved.ts';
import { RTP_HEADER_BYTES, RTP_VERSION } from '../../libs/rtp/packet.ts';

/** Channels the bench player sets up: track i on 2i (RTP) and 2i + 1 (RTCP), at most two tracks. */
export const RTSP_BENCH_CHANNELS = 4;
/** An RTSP response head (status line + headers); Sluice's are a few hundred bytes. */
const MAX_HEAD_BYTES = 8 * 1024;
/** An RTSP response body: only DESCRIBE has one (the SDP), well under this. */
const MAX_BODY_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const VIDEO_CLOCK_PER_MS = 90;

export type VideoCodec = 'h264' | 'h265';

/** What the player needs of an RTSP response: parsed just enough. */
export interface RtspBenchResponse {
  /** Status code, or -1 for a message that is not a response (a request from the server). */
  status: number;
  /** Session id (before any `;timeout=`), or null. */
  session: string | null;
  /** `timeout=` of the Session header in seconds, or null. */
  timeoutS: number | null;
  body: Buffer;
}

const State = { Idle: 0, Header: 1, Peek: 2, Whole: 3, Skip: 4, Text: 5, Body: 6 } as const;
type State = (typeof State)[keyof typeof State];

/**
 * The least a bench player needs from an RTSP-over-TCP connection (RFC 2326 §10.12): the
 * responses (text heads, Content-Length bodies) and the interleaved records between them
 * ('$', channel, u16 length, packet). Per channel it counts packets and bytes; on RTP channels
 * (even) it checks the sequence number (a gap is a packet the player never got: the server
 * dropped it or the player fell behind), and on the video channel it follows the newest RTP
 * timestamp (90 kHz, unwrapped) and finds the first key frame. Packets are read where they lie:
 * only a header cut by the end of a read is copied (16 bytes), and, before the first key frame,
 * a cut video packet (at most 64 KiB, the few packets before the key frame). A full
 * depacketizer per viewer would make the load generator, not the server, the bottleneck.
 */
export class RtspInterleavedScanner {
  readonly packets: number[] = new Array<number>(RTSP_BENCH_CHANNELS).fill(0);
  /** RTP/RTCP bytes per channel, without the 4-byte interleaved header. */
  readonly bytes: number[] = new Array<number>(RTSP_BENCH_CHANNELS).fill(0);
  /** Sequence gaps per RTP channel (one per jump) and the packets they skipped. */
  readonly seqGaps: number[] = new Array<number>(RTSP_BENCH_CHANNELS).fill(0);
  readonly lostPackets: number[] = new Array<number>(RTSP_BENCH_CHANNELS).fill(0);
  /** Records on channels the player did not set up. */
  otherPackets = 0;
  /** Newest video media time in ms since the first video packet (RTP timestamp / 90); -1 before any. */
  lastVideoMs = -1;
  /** The interleaved channel carrying video RTP; -1 when there is no video. */
  videoChannel = 0;
  videoCodec: VideoCodec = 'h264';
  onFirstKeyFrame: (() => void) | null = null;
  onResponse: ((r: RtspBenchResponse) => void) | null = null;

  private state: State = State.Idle;
  /** Interleaved header, then the RTP header, of a record cut by a read. */
  private readonly head = Buffer.alloc(INTERLEAVED_HEADER_BYTES + RTP_HEADER_BYTES);
  private headLen = 0;
  private channel = 0;
  private length = 0;
  /** Bytes of the current record or body still to skip or collect. */
  private left = 0;
  private whole: Buffer | null = null;
  private text: Buffer | null = null;
  private textLen = 0;
  private response: RtspBenchResponse | null = null;
  private readonly lastSeq: number[] = new Array<number>(RTSP_BENCH_CHANNELS).fill(-1);
  private firstTs = -1;
  private lastTs = 0;
  /** Unwrapped video RTP ticks since the first video packet, and the largest seen. */
  private ticks = 0;
  private maxTicks = -1;
  private sawKey = false;

  get sawKeyFrame(): boolean {
    return this.sawKey;
  }

  /** Raises ProtocolError (RTSP_BENCH_LOST_SYNC, RTP_BAD_VERSION, ...) on a stream it cannot follow. */
  push(data: Buffer): void {
    let pos = 0;
    const n = data.length;
    while (pos < n) {
      switch (this.state) {
        case State.Idle: {
          const b = data[pos]!;
          if (b === INTERLEAVED_MAGIC) {
            if (n - pos >= INTERLEAVED_HEADER_BYTES) {
              pos = this.begin(
                data[pos + 1]!,
                data.readUInt16BE(pos + 2),
                data,
                pos + INTERLEAVED_HEADER_BYTES,
              );
            } else {
              this.headLen = 0;
              this.state = State.Header;
            }
          } else if (b >= 0x41 && b <= 0x5a) {
            this.textLen = 0;
            this.state = State.Text;
          } else {
            throw new ProtocolError(
              'RTSP_BENCH_LOST_SYNC',
              `byte 0x${b.toString(16)} where '$' or an RTSP message belongs`,
            );
          }
          break;
        }
        case State.Header: {
          const k = Math.min(INTERLEAVED_HEADER_BYTES - this.headLen, n - pos);
          data.copy(this.head, this.headLen, pos, pos + k);
          this.headLen += k;
          pos += k;
          if (this.headLen === INTERLEAVED_HEADER_BYTES)
            pos = this.begin(this.head[1]!, this.head.readUInt16BE(2), data, pos);
          break;
        }
        case State.Peek: {
          // head[4..] collects the first bytes of the packet.
          const want = Math.min(this.length, RTP_HEADER_BYTES);
          const have = this.headLen - INTERLEAVED_HEADER_BYTES;
          const k = Math.min(want - have, n - pos);
          data.copy(this.head, this.headLen, pos, pos + k);
          this.headLen += k;
          pos += k;
          this.left -= k;
          if (have + k < want) break;
          this.packet(this.channel, this.head, INTERLEAVED_HEADER_BYTES, want, false);
          this.state = this.left > 0 ? State.Skip : State.Idle;
          break;
        }
        case State.Whole: {
          const w = this.whole!;
          const k = Math.min(this.left, n - pos);
          data.copy(w, w.length - this.left, pos, pos + k);
          this.left -= k;
          pos += k;
          if (this.left > 0) break;
          this.whole = null;
          this.state = State.Idle;
          this.packet(this.channel, w, 0, w.length, true);
          break;
        }
        case State.Skip: {
          const k = Math.min(this.left, n - pos);
          this.left -= k;
          pos += k;
          if (this.left === 0) this.state = State.Idle;
          break;
        }
        case State.Text:
          pos = this.textHead(data, pos);
          break;
        case State.Body: {
          const r = this.response!;
          const k = Math.min(this.left, n - pos);
          data.copy(r.body, r.body.length - this.left, pos, pos + k);
          this.left -= k;
          pos += k;
          if (this.left === 0) this.emit();
          break;
        }
      }
    }
  }

  /** A record's header is read; its packet starts at `data[pos]`. Returns the new position. */
  private begin(channel: number, length: number, data: Buffer, pos: number): number {
    this.channel = channel;
    this.length = length;
    if (channel < RTSP_BENCH_CHANNELS) {
      this.packets[channel]!++;
      this.bytes[channel]! += length;
    } else {
      this.otherPackets++;
    }
    const avail = data.length - pos;
    if (avail >= length) {
      this.state = State.Idle;
      this.packet(channel, data, pos, length, true);
      return pos + length;
    }
    this.left = length - avail;
    if (this.wantsPayload(channel)) {
      // Before the first key frame, a cut video packet is put together to look inside it.
      this.whole = Buffer.allocUnsafe(length);
      data.copy(this.whole, 0, pos);
      this.state = State.Whole;
    } else if (avail >= Math.min(length, RTP_HEADER_BYTES)) {
      this.packet(channel, data, pos, Math.min(length, RTP_HEADER_BYTES), false);
      this.state = State.Skip;
    } else {
      this.headLen = INTERLEAVED_HEADER_BYTES + avail;
      data.copy(this.head, INTERLEAVED_HEADER_BYTES, pos);
      this.state = State.Peek;
    }
    return data.length;
  }

  private wantsPayload(channel: number): boolean {
    return !this.sawKey && channel === this.videoChannel;
  }

  /** `len` bytes of the packet at `buf[at]`; `whole`: they are all of it. */
  private packet(channel: number, buf: Buffer, at: number, len: number, whole: boolean): void {
    if (channel >= RTSP_BENCH_CHANNELS || (channel & 1) !== 0) return; // RTCP or not ours
    if (len < RTP_HEADER_BYTES)
      throw new ProtocolError('RTP_TRUNCATED', `${len}-byte RTP packet on channel ${channel}`);
    const b0 = buf[at]!;
    if (b0 >>> 6 !== RTP_VERSION)
      throw new ProtocolError('RTP_BAD_VERSION', `RTP version ${b0 >>> 6} on channel ${channel}`);
    const seq = buf.readUInt16BE(at + 2);
    const last = this.lastSeq[channel]!;
    if (last >= 0 && seq !== ((last + 1) & 0xffff)) {
      // RFC 3550 §A.1: a forward jump of d means d - 1 packets missing; over TCP nothing reorders,
      // so a backward jump is a gap too (a restarted sequence).
      this.seqGaps[channel]!++;
      const d = (seq - last) & 0xffff;
      if (d < 0x8000) this.lostPackets[channel]! += d - 1;
    }
    this.lastSeq[channel] = seq;
    if (channel !== this.videoChannel) return;
    this.videoTime(buf.readUInt32BE(at + 4));
    if (!this.sawKey && whole && this.isKeyFrame(buf, at, len)) {
      this.sawKey = true;
      this.onFirstKeyFrame?.();
    }
  }

  /** RTP timestamps wrap at 2^32 and, with B-frames, step back: keep the newest, unwrapped. */
  private videoTime(ts: number): void {
    if (this.firstTs < 0) this.firstTs = ts;
    else this.ticks += (ts - this.lastTs) | 0;
    this.lastTs = ts;
    if (this.ticks > this.maxTicks) {
      this.maxTicks = this.ticks;
      this.lastVideoMs = this.ticks / VIDEO_CLOCK_PER_MS;
    }
  }

  private isKeyFrame(buf: Buffer, at: number, len: number): boolean {
    const b0 = buf[at]!;
    let start = at + RTP_HEADER_BYTES + (b0 & 0x0f) * 4;
    const end = at + len;
    if ((b0 & 0x10) !== 0 && start + 4 <= end) start += 4 + buf.readUInt16BE(start + 2) * 4;
    return this.videoCodec === 'h264' ? h264Key(buf, start, end) : h265Key(buf, start, end);
  }

  /** Collects a text head up to CRLFCRLF; returns the new position in `data`. */
  private textHead(data: Buffer, pos: number): number {
    this.text ??= Buffer.allocUnsafe(MAX_HEAD_BYTES);
    const old = this.textLen;
    const k = Math.min(MAX_HEAD_BYTES - old, data.length - pos);
    data.copy(this.text, old, pos, pos + k);
    this.textLen += k;
    const end = this.text.subarray(0, this.textLen).indexOf(CRLFCRLF, Math.max(0, old - 3));
    if (end < 0) {
      if (this.textLen >= MAX_HEAD_BYTES)
        throw new ProtocolError(
          'RTSP_BENCH_HEAD_TOO_LARGE',
          `RTSP message head over ${MAX_HEAD_BYTES} bytes`,
        );
      return pos + k;
    }
    const headEnd = end + CRLFCRLF.length;
    const r = parseHead(this.text.toString('latin1', 0, end));
    this.response = r.response;
    if (r.contentLength > MAX_BODY_BYTES)
      throw new ProtocolError('RTSP_BENCH_BODY_TOO_LARGE', `RTSP body of ${r.contentLength} bytes`);
    this.left = r.contentLength;
    r.response.body = Buffer.allocUnsafe(r.contentLength);
    if (this.left === 0) this.emit();
    else this.state = State.Body;
    return pos + (headEnd - old);
  }

  private emit(): void {
    const r = this.response!;
    this.response = null;
    this.state = State.Idle;
    this.onResponse?.(r);
  }
}

/** RFC 2326 §7.1 status line, §12.37 Session (id;timeout=s), §12.14 Content-Length. */
function parseHead(head: string): { response: RtspBenchResponse; contentLength: number } {
  const lines = head.split('\r\n');
  const m = /^RTSP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
  const response: RtspBenchResponse = {
    status: m ? Number(m[1]) : -1,
    session: null,
    timeoutS: null,
    body: Buffer.alloc(0),
  };
  let contentLength = 0;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      contentLength = Number(value);
      if (!Number.isInteger(contentLength) || contentLength < 0)
        throw new ProtocolError('RTSP_BENCH_BAD_LENGTH', `Content-Length ${value}`);
    } else if (name === 'session') {
      const [id, ...params] = value.split(';');
      response.session = id!.trim();
      const t = params.map((p) => /^\s*timeout\s*=\s*(\d+)\s*$/i.exec(p)).find((x) => x !== null);
      if (t) response.timeoutS = Number(t[1]);
    }
  }
  return { response, contentLength };
}

/** RFC 6184 §5.6 single NAL (IDR = 5), §5.7.1 STAP-A (24, any NAL inside), §5.8 FU-A (28) start of an IDR. */
export function h264Key(b: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  const type = b[start]! & 0x1f;
  if (type === 5) return true;
  if (type === 24) {
    for (let i = start + 1; i + 2 < end; i += 2 + b.readUInt16BE(i))
      if ((b[i + 2]! & 0x1f) === 5) return true;
    return false;
  }
  return type === 28 && start + 1 < end && (b[start + 1]! & 0x80) !== 0 && (b[start + 1]! & 0x1f) === 5;
}

const isIrap = (t: number): boolean => t >= 16 && t <= 23;

/** RFC 7798 §4.4.1 single NAL (IRAP 16..23), §4.4.2 AP (48), §4.4.3 FU (49) start; no DONL. */
export function h265Key(b: Buffer, start: number, end: number): boolean {
  if (start + 1 >= end) return false;
  const type = (b[start]! >> 1) & 0x3f;
  if (isIrap(type)) return true;
  if (type === 48) {
    for (let i = start + 2; i + 2 < end; i += 2 + b.readUInt16BE(i))
      if (isIrap((b[i + 2]! >> 1) & 0x3f)) return true;
    return false;
  }
  return type === 49 && start + 2 < end && (b[start + 2]! & 0x80) !== 0 && isIrap(b[start + 2]! & 0x3f);
}
