import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RtspReader, buildSdp, parseSdp, trackCodec } from '../../../libs/rtsp/index.ts';
import type { SdpTrackSpec } from '../../../libs/rtsp/index.ts';

/** The SDP ffmpeg ANNOUNCEd in the publish capture (H.264 + AAC). */
function ffmpegSdp(): string {
  const bin = readFileSync(new URL('../../fixtures/rtsp/ffmpeg-publish-tcp.bin', import.meta.url));
  const announce = new RtspReader()
    .push(bin)
    .find((i) => i.type === 'request' && i.request.method === 'ANNOUNCE');
  assert.ok(announce?.type === 'request');
  return announce.request.body.toString();
}

/** As a Hikvision camera answers DESCRIBE (LF-free CRLF, absolute controls, PCMA audio, trailing NUL). */
const HIKVISION =
  [
    'v=0',
    'o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64',
    's=Media Presentation',
    'e=NONE',
    'b=AS:5050',
    't=0 0',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast',
    'm=video 0 RTP/AVP 96',
    'c=IN IP4 0.0.0.0',
    'b=AS:5000',
    'a=recvonly',
    'a=x-dimensions:1920,1080',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z00AKpY1QPAET8s3AQEBAg==,aO48gA==',
    'm=audio 0 RTP/AVP 8',
    'c=IN IP4 0.0.0.0',
    'b=AS:50',
    'a=recvonly',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2?transportmode=unicast',
    'a=rtpmap:8 PCMA/8000',
    'a=Media_header:MEDIAINFO=494D4B48010100000400000111710110401F000000FA000000000000000000000000000000000000;',
    'a=appversion:1.0',
  ].join('\r\n') + '\r\n\0';

/** As GStreamer's rtspclientsink ANNOUNCEs (LF line ends here, stream=N controls, H.265 + AAC). */
const GSTREAMER = `v=0
o=- 1188340656180883 1 IN IP4 127.0.0.1
s=Session streamed with GStreamer
i=rtsp-server
t=0 0
a=tool:GStreamer
a=type:broadcast
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
a=rtpmap:96 H265/90000
a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwA8lZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZZUpkCxAQ;sprop-pps=RAHBcrRiQA==
a=control:stream=0
a=ts-refclk:local
a=mediaclk:sender
m=audio 0 RTP/AVP 97
c=IN IP4 0.0.0.0
a=rtpmap:97 MPEG4-GENERIC/48000/2
a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1190;sizelength=13;indexlength=3;indexdeltalength=3
a=control:stream=1
`;

test('sdp: ffmpeg H.264 + AAC', () => {
  const s = parseSdp(ffmpegSdp());
  assert.equal(s.media.length, 2);
  const [v, a] = s.media;
  assert.equal(v!.control, 'streamid=0');
  const vc = trackCodec(v!);
  assert.ok(vc.codec === 'h264');
  assert.equal(vc.packetizationMode, 1);
  assert.equal(vc.sps![0]! & 0x1f, 7);
  assert.equal(vc.pps![0]! & 0x1f, 8);
  const ac = trackCodec(a!);
  assert.deepEqual(ac, {
    codec: 'aac',
    payloadType: 97,
    clockRate: 44100,
    channels: 2,
    config: Buffer.from('121056E500', 'hex'),
    sizeLength: 13,
    indexLength: 3,
    indexDeltaLength: 3,
  });
});

test('sdp: Hikvision-style camera', () => {
  const s = parseSdp(HIKVISION);
  assert.equal(s.control, 'rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast');
  assert.equal(s.media.length, 2);
  const v = trackCodec(s.media[0]!);
  assert.ok(v.codec === 'h264');
  assert.equal(v.sps?.toString('base64'), 'Z00AKpY1QPAET8s3AQEBAg==');
  assert.equal(v.pps?.toString('base64'), 'aO48gA==');
  assert.deepEqual(trackCodec(s.media[1]!), { codec: 'unsupported', payloadType: 8, encoding: 'PCMA' });
  assert.deepEqual(s.media[0]!.attributes[1], ['x-dimensions', '1920,1080']);
  assert.deepEqual(s.media[0]!.attributes[0], ['recvonly', null]);
});

test('sdp: GStreamer H.265 + AAC', () => {
  const s = parseSdp(GSTREAMER);
  const v = trackCodec(s.media[0]!);
  assert.ok(v.codec === 'h265');
  assert.equal((v.vps![0]! >> 1) & 0x3f, 32);
  assert.equal((v.sps![0]! >> 1) & 0x3f, 33);
  assert.equal((v.pps![0]! >> 1) & 0x3f, 34);
  const a = trackCodec(s.media[1]!);
  assert.ok(
    a.codec === 'aac' && a.channels === 2 && a.clockRate === 48000 && a.config.toString('hex') === '1190',
  );
  assert.equal(s.media[1]!.control, 'stream=1');
});

test('sdp: static PT without rtpmap, missing config, bad AU lengths', () => {
  const base = 'v=0\r\ns=x\r\n';
  assert.deepEqual(trackCodec(parseSdp(`${base}m=audio 0 RTP/AVP 0\r\n`).media[0]!), {
    codec: 'unsupported',
    payloadType: 0,
    encoding: 'PCMU',
  });
  const noConfig = parseSdp(
    `${base}m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/44100/2\r\na=fmtp:97 mode=AAC-hbr\r\n`,
  );
  assert.equal(trackCodec(noConfig.media[0]!).codec, 'unsupported');
  const badLen = parseSdp(
    `${base}m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100\r\na=fmtp:97 config=1210;sizelength=99\r\n`,
  );
  assert.throws(() => trackCodec(badLen.media[0]!), { code: 'RTSP_BAD_FMTP' });
  const opus = parseSdp(`${base}m=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n`);
  assert.deepEqual(trackCodec(opus.media[0]!), { codec: 'unsupported', payloadType: 111, encoding: 'opus' });
});

test('sdp: nonsense is RTSP_BAD_SDP; over 64 tracks RTSP_SDP_TOO_MANY_MEDIA', () => {
  for (const t of [
    '',
    'hello',
    's=x\r\nv=0\r\n',
    'v=0\r\nnot a line\r\n',
    'v=0\r\nm=video\r\n',
    'v=0\r\nm=video x RTP/AVP 96\r\n',
  ]) {
    assert.throws(() => parseSdp(t), { code: 'RTSP_BAD_SDP' }, JSON.stringify(t));
  }
  const many = `v=0\r\n${'m=video 0 RTP/AVP 96\r\n'.repeat(65)}`;
  assert.throws(() => parseSdp(many), { code: 'RTSP_SDP_TOO_MANY_MEDIA' });
  assert.equal(parseSdp(`v=0\r\n${'m=video 0 RTP/AVP 96\r\n'.repeat(64)}`).media.length, 64);
});

test('buildSdp -> parseSdp -> trackCodec round trip', () => {
  const ff = parseSdp(ffmpegSdp());
  const h264 = trackCodec(ff.media[0]!);
  const aac = trackCodec(ff.media[1]!);
  const h265 = trackCodec(parseSdp(GSTREAMER).media[0]!);
  assert.ok(h264.codec === 'h264' && aac.codec === 'aac' && h265.codec === 'h265');
  const tracks: SdpTrackSpec[] = [
    { control: 'trackID=0', codec: { ...h264, payloadType: 96 } },
    { control: 'trackID=1', codec: { ...aac, payloadType: 97 } },
    { control: 'trackID=2', codec: { ...h265, payloadType: 96 } },
  ];
  const text = buildSdp({ sessionName: 'live/cam1', originAddress: '10.0.0.5', tracks, sessionId: '123' });
  assert.match(
    text,
    /^v=0\r\no=- 123 123 IN IP4 10\.0\.0\.5\r\ns=live\/cam1\r\nc=IN IP4 0\.0\.0\.0\r\nt=0 0\r\n/,
  );
  assert.match(
    text,
    /a=fmtp:96 packetization-mode=1;profile-level-id=42C00A;sprop-parameter-sets=Z0LACtoR7ARAAAADAEAAAAUDxImo,aM4PyA==\r\n/,
  );
  assert.match(
    text,
    /a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=121056E500\r\n/,
  );
  const back = parseSdp(text);
  assert.equal(back.control, '*');
  assert.equal(back.range, 'npt=now-');
  assert.deepEqual(
    back.media.map((m) => m.control),
    ['trackID=0', 'trackID=1', 'trackID=2'],
  );
  assert.deepEqual(
    back.media.map((m) => trackCodec(m)),
    tracks.map((t) => t.codec),
  );
  // IPv6 origin, empty name, no parameter sets.
  const bare = buildSdp({
    sessionName: '',
    originAddress: '::1',
    tracks: [
      {
        control: 'trackID=0',
        codec: { codec: 'h264', payloadType: 96, clockRate: 90000, packetizationMode: 1 },
      },
    ],
  });
  assert.match(bare, /IN IP6 ::1\r\ns=-\r\n/);
  assert.deepEqual(trackCodec(parseSdp(bare).media[0]!), {
    codec: 'h264',
    payloadType: 96,
    clockRate: 90000,
    packetizationMode: 1,
  });
});
