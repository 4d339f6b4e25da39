import type { TrackCodec } from './sdp-codec.ts';

export interface SdpTrackSpec {
  control: string;
  codec: Exclude<TrackCodec, { codec: 'unsupported' }>;
}

/** Dynamic payload types (RFC 3551 §3) we give our tracks. */
export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 97;

/**
 * The SDP a server answers DESCRIBE with, or a client ANNOUNCEs (RFC 2326 §C, RFC 4566).
 * `sessionId` (o= session id and version) defaults to the current NTP seconds, as RFC 4566
 * §5.2 suggests.
 */
export function buildSdp(o: {
  sessionName: string;
  originAddress: string;
  tracks: SdpTrackSpec[];
  sessionId?: string;
  tool?: string;
}): string {
  const id = o.sessionId ?? String(Math.floor(Date.now() / 1000) + 2208988800);
  const addrType = o.originAddress.includes(':') ? 'IP6' : 'IP4';
  const name = o.sessionName.replace(/[\r\n\0]/g, ' ').trim() || '-';
  const lines = [
    'v=0',
    `o=- ${id} ${id} IN ${addrType} ${o.originAddress.replace(/[\s\0]/g, '')}`,
    `s=${name}`,
    'c=IN IP4 0.0.0.0',
    't=0 0',
    `a=tool:${o.tool ?? 'sluice'}`,
    'a=control:*',
    'a=range:npt=now-',
  ];
  for (const t of o.tracks) lines.push(...trackLines(t));
  return `${lines.join('\r\n')}\r\n`;
}

function trackLines(t: SdpTrackSpec): string[] {
  const c = t.codec;
  const control = `a=control:${t.control}`;
  switch (c.codec) {
    case 'h264': {
      const pt = VIDEO_PAYLOAD_TYPE;
      // RFC 6184 §8.1: profile-level-id is the 3 bytes after the SPS NAL header.
      const params = ['packetization-mode=1'];
      if (c.sps && c.sps.length >= 4)
        params.push(`profile-level-id=${c.sps.subarray(1, 4).toString('hex').toUpperCase()}`);
      const sets = [c.sps, c.pps].filter((x): x is Buffer => x !== undefined && x.length > 0);
      if (sets.length > 0)
        params.push(`sprop-parameter-sets=${sets.map((s) => s.toString('base64')).join(',')}`);
      return [
        `m=video 0 RTP/AVP ${pt}`,
        `a=rtpmap:${pt} H264/${c.clockRate}`,
        `a=fmtp:${pt} ${params.join(';')}`,
        control,
      ];
    }
    case 'h265': {
      const pt = VIDEO_PAYLOAD_TYPE;
      // RFC 7798 §7.1
      const params: string[] = [];
      if (c.vps) params.push(`sprop-vps=${c.vps.toString('base64')}`);
      if (c.sps) params.push(`sprop-sps=${c.sps.toString('base64')}`);
      if (c.pps) params.push(`sprop-pps=${c.pps.toString('base64')}`);
      const lines = [`m=video 0 RTP/AVP ${pt}`, `a=rtpmap:${pt} H265/${c.clockRate}`];
      if (params.length > 0) lines.push(`a=fmtp:${pt} ${params.join(';')}`);
      return [...lines, control];
    }
    case 'aac': {
      const pt = AUDIO_PAYLOAD_TYPE;
      // RFC 3640 §3.3.6 (AAC-hbr); profile-level-id=1 as ffmpeg writes it.
      const fmtp =
        `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=${c.sizeLength};` +
        `indexlength=${c.indexLength};indexdeltalength=${c.indexDeltaLength};config=${c.config.toString('hex').toUpperCase()}`;
      return [
        `m=audio 0 RTP/AVP ${pt}`,
        `a=rtpmap:${pt} MPEG4-GENERIC/${c.clockRate}/${c.channels}`,
        `a=fmtp:${pt} ${fmtp}`,
        control,
      ];
    }
  }
}
