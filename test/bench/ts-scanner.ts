import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import {
  Pid,
  StreamType,
  SYNC_BYTE,
  TS_PACKET_SIZE,
  parsePat,
  parsePesHeader,
  parsePmt,
} from '../../libs/mpegts/index.ts';
import { SectionAssembler } from '../../libs/mpegts/section-assembler.ts';
import { CLOCK_90K_PER_MS } from '../../libs/mpegts/constants.ts';
import { readTimestampField } from '../../libs/mpegts/timestamp.ts';
import { newTsPacketInfo, readTsPacket } from '../../libs/mpegts/ts-packet.ts';

const VIDEO_TYPES: ReadonlySet<number> = new Set([StreamType.H264, StreamType.H265]);
const AUDIO_TYPES: ReadonlySet<number> = new Set([StreamType.Aac, 0x03, 0x04]);
/** payload_unit_start_indicator, adaptation_field_control bits (ISO/IEC 13818-1 §2.4.3.2). */
const PUSI = 0x40;
const AFC_PAYLOAD = 0x10;
const AF_DISCONTINUITY = 0x80;
/** PES fixed header (§2.4.3.6: start code, stream id, length, two flag bytes, header length). */
const PES_FIXED = 9;
const TIMESTAMP_FIELD = 5;

/**
 * The least a bench player needs from an MPEG-TS byte stream: packets counted with their sync
 * byte checked, the video PID from PAT/PMT, the first key frame (a video packet starting a PES
 * with random_access_indicator, or whose first payload bytes hold an IDR / IRAP NAL unit), the
 * last PES timestamp, and continuity-counter gaps on the audio and video PIDs. PSI is parsed only
 * until the first key frame; after that a packet costs a few byte reads, and a PES header is read
 * once per frame. It holds at most one packet that straddles reads. A full TsDemuxer per viewer
 * would make the load generator, not the server, the bottleneck.
 */
export class TsPacketScanner {
  /** Whole packets seen. */
  packets = 0;
  /** DTS (else PTS) of the last audio/video PES, in ms; -1 before any. */
  lastTimestampMs = -1;
  /** Packets on the audio/video PIDs whose continuity_counter skipped (data the viewer missed). */
  ccGaps = 0;
  /** Called once, for the first key frame after PAT and PMT. */
  onFirstKeyFrame: (() => void) | null = null;
  /**
   * Called for each video PES start after the first key frame, in the push that brought its
   * header, with its DTS (else PTS) in ms: the FLV timestamp of the frame, for Sluice's muxer.
   */
  onFrame: ((timestampMs: number) => void) | null = null;

  private readonly pending = Buffer.alloc(TS_PACKET_SIZE);
  private pendingLen = 0;
  private readonly info = newTsPacketInfo();
  private readonly patSections = new SectionAssembler();
  private readonly pmtSections = new SectionAssembler();
  private pmtPid = -1;
  private videoPid = -1;
  private videoType = 0;
  private audioPid = -1;
  private sawKey = false;
  private lastVideoCc = -1;
  private lastAudioCc = -1;

  /** Video PID from the PMT, -1 until known. */
  get videoPidSeen(): number {
    return this.videoPid;
  }

  /**
   * Scans `data[0, end)`. Raises ProtocolError TS_LOST_SYNC when a packet does not start with
   * 0x47 (and PSI errors before the first key frame).
   */
  push(data: Buffer, end = data.length): void {
    let pos = 0;
    const n = end;
    if (this.pendingLen > 0) {
      const k = Math.min(TS_PACKET_SIZE - this.pendingLen, n);
      data.copy(this.pending, this.pendingLen, 0, k);
      this.pendingLen += k;
      pos = k;
      if (this.pendingLen < TS_PACKET_SIZE) return;
      this.pendingLen = 0;
      this.packet(this.pending, 0);
    }
    for (; pos + TS_PACKET_SIZE <= n; pos += TS_PACKET_SIZE) this.packet(data, pos);
    if (pos < n) {
      data.copy(this.pending, 0, pos, n);
      this.pendingLen = n - pos;
    }
  }

  /** Bytes of a packet cut by the end of the last read (not a whole packet yet). */
  get partialBytes(): number {
    return this.pendingLen;
  }

  private packet(buf: Buffer, at: number): void {
    if (buf[at] !== SYNC_BYTE) {
      throw new ProtocolError(
        'TS_LOST_SYNC',
        `packet ${this.packets}: byte 0x${buf[at]!.toString(16)} where the sync byte 0x47 belongs`,
      );
    }
    this.packets++;
    const b1 = buf[at + 1]!;
    const pid = ((b1 & 0x1f) << 8) | buf[at + 2]!;
    if (!this.sawKey) this.beforeKey(buf, at, pid);
    if (pid !== this.videoPid && pid !== this.audioPid) return;
    const b3 = buf[at + 3]!;
    if ((b3 & AFC_PAYLOAD) !== 0) this.continuity(buf, at, pid, b3 & 0x0f);
    if ((b1 & PUSI) === 0 || !this.sawKey) return;
    if (!readTsPacket(buf, at, this.info)) return;
    this.timestamp(buf, at + this.info.payloadOffset, at + TS_PACKET_SIZE, pid === this.videoPid);
  }

  private continuity(buf: Buffer, at: number, pid: number, cc: number): void {
    const last = pid === this.videoPid ? this.lastVideoCc : this.lastAudioCc;
    // A repeated counter is a duplicate packet (§2.4.3.3); a discontinuity_indicator restarts.
    const restart =
      (buf[at + 3]! & 0x20) !== 0 && buf[at + 4]! > 0 && (buf[at + 5]! & AF_DISCONTINUITY) !== 0;
    if (last >= 0 && cc !== ((last + 1) & 0x0f) && cc !== last && !restart) this.ccGaps++;
    if (pid === this.videoPid) this.lastVideoCc = cc;
    else this.lastAudioCc = cc;
  }

  /**
   * The DTS (else PTS) of the PES header at `p`, read in place: this runs once per frame per
   * player, so no views or header objects (§2.4.3.6, §2.4.3.7). Anything unexpected is skipped.
   */
  private timestamp(buf: Buffer, p: number, end: number, video: boolean): void {
    if (end - p < PES_FIXED || buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) return;
    const flags = buf[p + 7]! >>> 6;
    if (flags < 2 || end - p < PES_FIXED + (flags - 1) * TIMESTAMP_FIELD) return;
    const ticks = readTimestampField(buf, PES_FIXED + p + (flags === 3 ? TIMESTAMP_FIELD : 0));
    // Sluice's muxer writes FLV milliseconds x 90 with no offset (libs/mpegts/muxer.ts, msTo90k).
    const ms = Math.round(ticks / CLOCK_90K_PER_MS);
    this.lastTimestampMs = ms;
    if (video) this.onFrame?.(ms);
  }

  /** PAT, then PMT, then the first key frame on the video PID. */
  private beforeKey(buf: Buffer, at: number, pid: number): void {
    const p = this.info;
    if (pid !== Pid.Pat && pid !== this.pmtPid && pid !== this.videoPid) return;
    if (!readTsPacket(buf, at, p)) return;
    const payload = buf.subarray(at + p.payloadOffset, at + TS_PACKET_SIZE);
    if (pid === Pid.Pat) {
      for (const s of this.patSections.push(payload, p.payloadUnitStart)) {
        const prog = parsePat(s).programs.find((x) => x.programNumber !== 0);
        if (prog) this.pmtPid = prog.pmtPid;
      }
    } else if (pid === this.pmtPid) {
      for (const s of this.pmtSections.push(payload, p.payloadUnitStart)) {
        const pmt = parsePmt(s);
        const v = pmt.streams.find((x) => VIDEO_TYPES.has(x.streamType));
        const a = pmt.streams.find((x) => AUDIO_TYPES.has(x.streamType));
        this.videoPid = v?.pid ?? -1;
        this.videoType = v?.streamType ?? 0;
        this.audioPid = a?.pid ?? -1;
      }
    } else if (p.payloadUnitStart && (p.randomAccess || this.startsWithKeyNal(payload))) {
      this.sawKey = true;
      this.onFirstKeyFrame?.();
    }
  }

  /** An IDR (H.264 type 5) or IRAP (H.265 16..23) NAL unit in the first packet of the PES. */
  private startsWithKeyNal(payload: Buffer): boolean {
    const h = parsePesHeader(payload);
    for (let i = h.headerSize; i + 3 < payload.length; i++) {
      if (payload[i] !== 0 || payload[i + 1] !== 0 || payload[i + 2] !== 1) continue;
      const b = payload[i + 3]!;
      if (
        this.videoType === StreamType.H264
          ? (b & 0x1f) === 5
          : ((b >> 1) & 0x3f) >= 16 && ((b >> 1) & 0x3f) <= 23
      )
        return true;
    }
    return false;
  }
}
