import { ProtocolError } from '../errors/protocol-error.ts';
import { Pid, TableId, TS_PACKET_SIZE } from './constants.ts';
import type { TsDemuxEvent, TsDemuxStats, TsDemuxerOptions } from './demux-events.ts';
// The event and stats types lived here first; importers of this file keep finding them.
export type {
  TsContinuityErrors,
  TsDemuxEvent,
  TsDemuxStats,
  TsDemuxerOptions,
  TsDiscontinuityEvent,
  TsPatEvent,
  TsPcrEvent,
  TsPesEvent,
  TsPmtEvent,
} from './demux-events.ts';
import { PacketSync } from './packet-sync.ts';
import { parsePesHeader } from './pes.ts';
import { PesAssembler } from './pes-assembler.ts';
import { parsePat, parsePmt } from './psi.ts';
import type { Pat, Pmt } from './psi.ts';
import { SectionAssembler } from './section-assembler.ts';
import { newTsPacketInfo, readTsPacket } from './ts-packet.ts';

/** Far above any real frame (a 4K key frame is a few MB), as FlvReader caps a tag. */
export const DEFAULT_MAX_PES_BYTES = 8 * 1024 * 1024;
/** Continuity errors whose position is kept per PID. */
export const MAX_RECORDED_CC_ERRORS = 32;

interface PidState {
  /** Last continuity counter on a packet with payload, -1 before the first. */
  lastCc: number;
  section: SectionAssembler | null;
  pes: PesAssembler | null;
  streamType: number;
}

/**
 * Sans-I/O MPEG-TS demuxer (ISO/IEC 13818-1): bytes in, any chunking; events out (PAT, PMT,
 * PES packets with PTS/DTS, PCRs, continuity errors). Never throws on input: losing sync,
 * bad CRCs, bad headers and oversized PES packets are counted in `stats` and skipped, with
 * memory bounded by `maxBufferedBytes` plus one packet and the PSI sections (1 KiB each).
 *
 * PES data spanning pushes is kept as views of the pushed buffers until it is complete, so
 * callers must not reuse a buffer after pushing it. The same bytes split anywhere give the
 * same events.
 */
export class TsDemuxer {
  readonly stats: TsDemuxStats = {
    packets: 0,
    syncLosses: 0,
    skippedBytes: 0,
    badPackets: 0,
    duplicatePackets: 0,
    continuity: new Map(),
    crcErrors: 0,
    badSections: 0,
    badPesHeaders: 0,
    oversizedPes: 0,
    truncatedPes: 0,
  };
  private readonly maxPesBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly pids = new Map<number, PidState>();
  private readonly info = newTsPacketInfo();
  private readonly sync = new PacketSync((buf, at) => this.packet(buf, at));
  private events: TsDemuxEvent[] = [];
  private bufferedPesBytes = 0;
  private currentPat: Pat | null = null;
  private patBytes: Buffer | null = null;
  private readonly pmts = new Map<number, { pmt: Pmt; bytes: Buffer }>();

  constructor(opts: TsDemuxerOptions = {}) {
    this.maxPesBytes = opts.maxPesBytes ?? DEFAULT_MAX_PES_BYTES;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 2 * this.maxPesBytes;
    this.pids.set(Pid.Pat, this.newPid(true));
  }

  /** The last PAT received. */
  get pat(): Pat | null {
    return this.currentPat;
  }

  /** The last PMT of each program, by PMT PID. */
  get programs(): ReadonlyMap<number, Pmt> {
    return new Map([...this.pmts].map(([pid, p]) => [pid, p.pmt]));
  }

  /** Bytes held between pushes: the carried partial packet and the PES packets in progress. */
  get bufferedBytes(): number {
    return this.sync.carried + this.bufferedPesBytes;
  }

  push(chunk: Buffer): TsDemuxEvent[] {
    this.events = [];
    this.sync.push(chunk);
    this.syncStats();
    return this.events;
  }

  /** End of stream: the carried bytes and the PES packets still open (unbounded video). */
  end(): TsDemuxEvent[] {
    this.events = [];
    this.sync.end();
    this.syncStats();
    for (const [pid, s] of this.pids) if (s.pes?.active) this.finishPes(pid, s);
    return this.events;
  }

  private syncStats(): void {
    this.stats.syncLosses = this.sync.syncLosses;
    this.stats.skippedBytes = this.sync.skippedBytes;
  }

  private packet(buf: Buffer, at: number): void {
    const index = this.stats.packets++;
    const p = this.info;
    if (!readTsPacket(buf, at, p) || p.transportError) {
      this.stats.badPackets++;
      return;
    }
    if (p.pcr90k >= 0) {
      this.events.push({
        type: 'pcr',
        packetIndex: index,
        pid: p.pid,
        pcr90k: p.pcr90k,
        pcrExtension: p.pcrExtension,
      });
    }
    const s = this.pids.get(p.pid);
    if (s === undefined || !p.hasPayload) return;
    const cc = p.continuityCounter;
    let lost = false;
    if (s.lastCc >= 0 && !p.discontinuity) {
      if (cc === s.lastCc) {
        this.stats.duplicatePackets++;
        return;
      }
      const expected = (s.lastCc + 1) & 0x0f;
      if (cc !== expected) {
        lost = true;
        this.continuityError(index, p.pid, expected, cc);
      }
    }
    s.lastCc = cc;
    if (p.scrambling !== 0) {
      this.stats.badPackets++;
      return;
    }
    const payload = buf.subarray(at + p.payloadOffset, at + TS_PACKET_SIZE);
    if (s.section !== null) {
      if (lost) s.section.reset();
      for (const section of s.section.push(payload, p.payloadUnitStart)) this.section(index, p.pid, section);
      this.stats.badSections += s.section.dropped;
      s.section.dropped = 0;
    } else if (s.pes !== null) {
      this.pesPayload(index, p.pid, s, s.pes, payload, lost);
    }
  }

  private pesPayload(
    index: number,
    pid: number,
    s: PidState,
    pes: PesAssembler,
    payload: Buffer,
    lost: boolean,
  ): void {
    const p = this.info;
    if (p.payloadUnitStart) {
      if (pes.active) this.finishPes(pid, s);
      if (!this.reserve(payload.length)) return;
      pes.start(payload, index, p.randomAccess, p.pcr90k);
    } else {
      if (!pes.active) return; // the start was lost or dropped: wait for the next one
      if (lost) pes.continuityError = true;
      if (pes.size + payload.length > this.maxPesBytes || !this.reserve(payload.length)) {
        this.release(pes.size);
        pes.clear();
        this.stats.oversizedPes++;
        return;
      }
      pes.append(payload);
    }
    if (pes.complete) this.finishPes(pid, s);
  }

  /** Counts `n` more buffered PES bytes, or refuses them over the total limit. */
  private reserve(n: number): boolean {
    if (this.bufferedPesBytes + n > this.maxBufferedBytes) {
      this.stats.oversizedPes++;
      return false;
    }
    this.bufferedPesBytes += n;
    return true;
  }

  private release(n: number): void {
    this.bufferedPesBytes -= n;
  }

  private finishPes(pid: number, s: PidState): void {
    const pes = s.pes!;
    this.release(pes.size);
    if (pes.truncated) {
      pes.clear();
      this.stats.truncatedPes++;
      return;
    }
    const { startPacketIndex, randomAccess, pcr90k, continuityError } = pes;
    const bytes = pes.take();
    let header;
    try {
      header = parsePesHeader(bytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.stats.badPesHeaders++;
      return;
    }
    this.events.push({
      type: 'pes',
      packetIndex: startPacketIndex,
      pid,
      streamType: s.streamType,
      streamId: header.streamId,
      pts90k: header.pts90k,
      dts90k: header.dts90k,
      data: bytes.subarray(header.headerSize),
      randomAccess,
      pcr90k: pcr90k >= 0 ? pcr90k : null,
      continuityError,
    });
  }

  private continuityError(index: number, pid: number, expected: number, got: number): void {
    let e = this.stats.continuity.get(pid);
    if (e === undefined) {
      e = { count: 0, packetIndexes: [] };
      this.stats.continuity.set(pid, e);
    }
    e.count++;
    if (e.packetIndexes.length < MAX_RECORDED_CC_ERRORS) e.packetIndexes.push(index);
    this.events.push({ type: 'discontinuity', packetIndex: index, pid, expected, got });
  }

  private section(index: number, pid: number, bytes: Buffer): void {
    try {
      if (pid === Pid.Pat) {
        if (bytes[0] !== TableId.Pat) return;
        const pat = parsePat(bytes);
        const changed = this.patBytes === null || !this.patBytes.equals(bytes);
        this.patBytes = bytes;
        this.currentPat = pat;
        if (changed) this.applyPat(pat);
        this.events.push({ type: 'pat', packetIndex: index, pat, changed });
      } else {
        if (bytes[0] !== TableId.Pmt) return;
        const pmt = parsePmt(bytes);
        const before = this.pmts.get(pid);
        const changed = before === undefined || !before.bytes.equals(bytes);
        this.pmts.set(pid, { pmt, bytes });
        if (changed) this.applyPmts();
        this.events.push({ type: 'pmt', packetIndex: index, pid, pmt, changed });
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      if (e.code === 'TS_BAD_CRC') this.stats.crcErrors++;
      else this.stats.badSections++;
    }
  }

  /** PMT PIDs follow the PAT; PMTs of programs no longer listed are forgotten. */
  private applyPat(pat: Pat): void {
    const pmtPids = new Set(pat.programs.filter((p) => p.programNumber !== 0).map((p) => p.pmtPid));
    pmtPids.delete(Pid.Pat);
    for (const pid of this.pmts.keys()) if (!pmtPids.has(pid)) this.pmts.delete(pid);
    for (const [pid, s] of this.pids) {
      if (s.section !== null && pid !== Pid.Pat && !pmtPids.has(pid)) this.pids.delete(pid);
    }
    for (const pid of pmtPids) {
      const s = this.pids.get(pid);
      if (s === undefined || s.section === null) {
        if (s?.pes) this.release(s.pes.size);
        this.pids.set(pid, this.newPid(true));
      }
    }
    this.applyPmts();
  }

  /** Elementary PIDs follow the PMTs: new ones get an assembler, dropped ones lose theirs. */
  private applyPmts(): void {
    const streams = new Map<number, number>();
    for (const { pmt } of this.pmts.values())
      for (const st of pmt.streams) streams.set(st.pid, st.streamType);
    for (const [pid, s] of this.pids) {
      if (s.pes !== null && !streams.has(pid)) {
        this.release(s.pes.size);
        this.pids.delete(pid);
      }
    }
    for (const [pid, streamType] of streams) {
      const s = this.pids.get(pid);
      if (s === undefined) {
        const n = this.newPid(false);
        n.streamType = streamType;
        this.pids.set(pid, n);
      } else if (s.pes !== null) {
        s.streamType = streamType;
      }
      // A PID that is both a PMT PID and an elementary PID stays a PSI PID.
    }
  }

  private newPid(psi: boolean): PidState {
    return {
      lastCc: -1,
      section: psi ? new SectionAssembler() : null,
      pes: psi ? null : new PesAssembler(),
      streamType: -1,
    };
  }
}
