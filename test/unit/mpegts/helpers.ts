import { readFileSync } from 'node:fs';
import { FlvReader, parseAudioTag, parseVideoTag } from '../../../libs/flv/index.ts';
import { TsDemuxer, TsMuxer } from '../../../libs/mpegts/index.ts';
import type { TsDemuxEvent, TsInputFrame, TsPesEvent } from '../../../libs/mpegts/index.ts';

/** FLV tags as the hub would hand them over (flags from the tag headers). */
export function framesFromFlv(flv: Buffer): TsInputFrame[] {
  return new FlvReader().push(flv).map((t) => frame(t.type as 8 | 9 | 18, t.timestampMs, t.body));
}

export function frame(kind: 8 | 9 | 18, timestampMs: number, payload: Buffer): TsInputFrame {
  let isKeyFrame = false;
  let isSequenceHeader = false;
  if (kind === 9) {
    const v = parseVideoTag(payload);
    isKeyFrame = v.isKeyFrame;
    isSequenceHeader = v.isSequenceHeader;
  } else if (kind === 8) {
    isSequenceHeader = parseAudioTag(payload).isSequenceHeader;
  }
  return { kind, timestampMs, payload, isKeyFrame, isSequenceHeader };
}

/** test/fixtures/flv/x.flv: H.264 (B-frames) + AAC, 0.5 s, made by ffmpeg (see its README). */
export function xFlv(): Buffer {
  return readFileSync(new URL('../../fixtures/flv/x.flv', import.meta.url));
}

export function muxAll(frames: readonly TsInputFrame[], muxer = new TsMuxer()): Buffer {
  return Buffer.concat(frames.map((f) => muxer.mux(f)));
}

export function demuxAll(ts: Buffer, demuxer = new TsDemuxer()): TsDemuxEvent[] {
  return [...demuxer.push(ts), ...demuxer.end()];
}

export function pesEvents(events: readonly TsDemuxEvent[], pid?: number): TsPesEvent[] {
  return events.filter((e): e is TsPesEvent => e.type === 'pes' && (pid === undefined || e.pid === pid));
}

/** Legacy FLV video tag body: frameType << 4 | codecId, packet type, SI24 CTS, data. */
export function legacyVideo(
  codecId: number,
  key: boolean,
  packetType: number,
  ctsMs: number,
  data: Buffer,
): Buffer {
  const h = Buffer.alloc(5);
  h[0] = ((key ? 1 : 2) << 4) | codecId;
  h[1] = packetType;
  h.writeIntBE(ctsMs, 2, 3);
  return Buffer.concat([h, data]);
}

/** Enhanced RTMP video tag body: IsExHeader | frameType << 4 | packetType, FourCC, [SI24 CTS], data. */
export function enhancedVideo(
  fourCC: string,
  key: boolean,
  packetType: number,
  data: Buffer,
  ctsMs?: number,
): Buffer {
  const h = Buffer.alloc(5);
  h[0] = 0x80 | ((key ? 1 : 2) << 4) | packetType;
  h.write(fourCC, 1, 'latin1');
  const parts: Buffer[] = [h];
  if (ctsMs !== undefined) {
    const c = Buffer.alloc(3);
    c.writeIntBE(ctsMs, 0, 3);
    parts.push(c);
  }
  parts.push(data);
  return Buffer.concat(parts);
}

/** Legacy AAC tag body: 0xAF (AAC, 44 kHz, 16-bit, stereo), AACPacketType, data. */
export function aacAudio(sequenceHeader: boolean, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xaf, sequenceHeader ? 0 : 1]), data]);
}

/** The continuity counters of every packet on `pid`, in order, with whether the packet has payload. */
export function packetsOn(ts: Buffer, pid: number): { cc: number; payload: boolean; index: number }[] {
  const out: { cc: number; payload: boolean; index: number }[] = [];
  for (let at = 0, i = 0; at < ts.length; at += 188, i++) {
    if ((((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!) !== pid) continue;
    out.push({ cc: ts[at + 3]! & 0x0f, payload: (ts[at + 3]! & 0x10) !== 0, index: i });
  }
  return out;
}
