/**
 * Whether a video tag body starting with bytes b0, b1 is a key frame a decoder can start
 * on: frame type 1 and not a sequence header / end of sequence / metadata. Legacy headers
 * (FLV spec v10 §E.4.3.1): AVC/HEVC carry AVCPacketType in b1 (1 = NALUs). Enhanced RTMP:
 * the low nibble of b0 is the packet type (1 CodedFrames, 3 CodedFramesX). Two byte reads,
 * because every bench player calls it on every video tag until its first key frame.
 */
export function isPlayableKeyFrame(b0: number, b1: number): boolean {
  if ((b0 & 0x80) !== 0) {
    const packetType = b0 & 0x0f;
    return ((b0 >> 4) & 0x07) === 1 && (packetType === 1 || packetType === 3);
  }
  if (b0 >> 4 !== 1) return false;
  const codecId = b0 & 0x0f;
  return codecId === 7 || codecId === 12 ? b1 === 1 : true;
}
