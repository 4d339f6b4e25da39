import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RtspHeaders,
  formatRtpInfo,
  formatSessionHeader,
  formatTransport,
  newSessionId,
  parseRange,
  parseRtpInfo,
  parseSessionHeader,
  parseTransports,
  serializeRequest,
  serializeResponse,
  statusReason,
} from '../../../libs/rtsp/index.ts';
import type { RtspTransport } from '../../../libs/rtsp/index.ts';

test('headers: case-insensitive, ordered, repeated', () => {
  const h = new RtspHeaders()
    .append('WWW-Authenticate', 'Digest a')
    .append('CSeq', '1')
    .append('www-authenticate', 'Basic b');
  assert.equal(h.get('cseq'), '1');
  assert.deepEqual(h.getAll('WWW-AUTHENTICATE'), ['Digest a', 'Basic b']);
  h.set('www-authenticate', 'x');
  assert.deepEqual(
    [...h.entries()],
    [
      ['www-authenticate', 'x'],
      ['CSeq', '1'],
    ],
  );
  assert.equal(h.get('missing'), undefined);
});

test('writer: response and request bytes; Content-Length from the body', () => {
  const h = new RtspHeaders().set('CSeq', '3').set('Content-Length', '999');
  assert.equal(
    serializeResponse({ status: 200, headers: h }).toString(),
    'RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n',
  );
  assert.equal(
    serializeResponse({ status: 454, headers: new RtspHeaders([['CSeq', '1']]) }).toString(),
    'RTSP/1.0 454 Session Not Found\r\nCSeq: 1\r\n\r\n',
  );
  const req = serializeRequest({
    method: 'ANNOUNCE',
    uri: 'rtsp://h/a',
    headers: new RtspHeaders([['CSeq', '2']]),
    body: Buffer.from('v=0\r\n'),
  });
  assert.equal(req.toString(), 'ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n');
  assert.throws(
    () => serializeResponse({ status: 200, headers: new RtspHeaders([['X', 'a\r\nInjected: 1']]) }),
    TypeError,
  );
  assert.equal(statusReason(401), 'Unauthorized');
  assert.equal(statusReason(461), 'Unsupported transport');
});

const TRANSPORTS: { from: string; value: string; want: RtspTransport[] }[] = [
  {
    from: 'ffmpeg publish TCP',
    value: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    want: [{ protocol: 'tcp', multicast: false, interleaved: [0, 1], mode: 'record' }],
  },
  {
    from: 'ffmpeg play UDP',
    value: 'RTP/AVP/UDP;unicast;client_port=15278-15279',
    want: [{ protocol: 'udp', multicast: false, clientPort: [15278, 15279] }],
  },
  {
    from: 'GStreamer rtspsrc (several alternatives)',
    value:
      'RTP/AVP;unicast;client_port=50000-50001,RTP/AVP/TCP;unicast;interleaved=0-1, RTP/AVP;multicast;destination=224.1.2.3',
    want: [
      { protocol: 'udp', multicast: false, clientPort: [50000, 50001] },
      { protocol: 'tcp', multicast: false, interleaved: [0, 1] },
      { protocol: 'udp', multicast: true, destination: '224.1.2.3' },
    ],
  },
  {
    from: 'GStreamer rtspclientsink',
    value: 'RTP/AVP;unicast;client_port=5002-5003;mode=RECORD',
    want: [{ protocol: 'udp', multicast: false, clientPort: [5002, 5003], mode: 'record' }],
  },
  {
    from: 'VLC (live555)',
    value: 'RTP/AVP;unicast;client_port=59354-59355',
    want: [{ protocol: 'udp', multicast: false, clientPort: [59354, 59355] }],
  },
  {
    from: 'server reply with ssrc and quoted mode',
    value:
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C;mode="PLAY";source=10.0.0.1',
    want: [
      {
        protocol: 'udp',
        multicast: false,
        clientPort: [5000, 5001],
        serverPort: [6970, 6971],
        ssrc: 0x1a2b3c,
        mode: 'play',
        source: '10.0.0.1',
      },
    ],
  },
  {
    from: 'SAVP alternative skipped, single interleaved channel',
    value: 'RTP/SAVP;unicast;client_port=1-2,RTP/AVP/TCP;interleaved=4',
    want: [{ protocol: 'tcp', multicast: false, interleaved: [4, 5] }],
  },
];

for (const c of TRANSPORTS) {
  test(`transport: ${c.from}`, () => {
    const got = parseTransports(c.value);
    assert.deepEqual(got, c.want);
    for (const t of got) assert.deepEqual(parseTransports(formatTransport(t)), [t]);
  });
}

test('transport: garbage is RTSP_BAD_TRANSPORT', () => {
  for (const v of [
    '',
    'garbage',
    'RTP/SAVP;unicast',
    'RTP/AVP/TCP;interleaved=300-301',
    'RTP/AVP;client_port=a-b',
    'RTP/AVP;mode=teleport',
    'RTP/AVP;ssrc=xyz',
  ]) {
    assert.throws(() => parseTransports(v), { code: 'RTSP_BAD_TRANSPORT' }, v);
  }
  assert.equal(
    formatTransport({ protocol: 'tcp', multicast: false, interleaved: [2, 3], ssrc: 0xabc, mode: 'play' }),
    'RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00000ABC;mode=play',
  );
});

test('session header', () => {
  assert.deepEqual(parseSessionHeader('6F1A2B3C4D5E6F70;timeout=60'), {
    id: '6F1A2B3C4D5E6F70',
    timeoutS: 60,
  });
  assert.deepEqual(parseSessionHeader(' 12345678 '), { id: '12345678' });
  assert.deepEqual(parseSessionHeader('abc; timeout = 30'), { id: 'abc', timeoutS: 30 });
  assert.deepEqual(parseSessionHeader('abc;timeout=x'), { id: 'abc' });
  for (const v of ['', ';timeout=3', 'a b', 'a'.repeat(300)])
    assert.throws(() => parseSessionHeader(v), { code: 'RTSP_BAD_SESSION' });
  assert.equal(formatSessionHeader('ABC', 60), 'ABC;timeout=60');
  const ids = new Set(Array.from({ length: 100 }, () => newSessionId()));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[0-9A-F]{16}$/);
});

test('RTP-Info round trip and errors', () => {
  const entries = [
    { url: 'rtsp://h/live/a/trackID=0', seq: 1234, rtptime: 4294967295 },
    { url: 'rtsp://h/live/a/trackID=1', seq: 0 },
    { url: 'rtsp://h/live/a/trackID=2' },
  ];
  const text = formatRtpInfo(entries);
  assert.equal(
    text,
    'url=rtsp://h/live/a/trackID=0;seq=1234;rtptime=4294967295,url=rtsp://h/live/a/trackID=1;seq=0,url=rtsp://h/live/a/trackID=2',
  );
  assert.deepEqual(parseRtpInfo(text), entries);
  assert.deepEqual(parseRtpInfo('url="rtsp://h/a";seq=1'), [{ url: 'rtsp://h/a', seq: 1 }]);
  for (const v of ['', 'seq=1', 'url=x;seq=70000', 'url=x;rtptime=-1'])
    assert.throws(() => parseRtpInfo(v), { code: 'RTSP_BAD_RTP_INFO' }, v);
});

test('Range', () => {
  assert.deepEqual(parseRange('npt=0-'), { unit: 'npt', startS: 0 });
  assert.deepEqual(parseRange('npt=0.000-'), { unit: 'npt', startS: 0 });
  assert.deepEqual(parseRange('npt=now-'), { unit: 'npt', startS: 'now' });
  assert.deepEqual(parseRange('npt=1:02:03.5-3725'), { unit: 'npt', startS: 3723.5, endS: 3725 });
  assert.deepEqual(parseRange('clock=19961108T142300Z-'), { unit: 'clock', value: '19961108T142300Z-' });
  for (const v of ['', 'npt', 'npt=', 'npt=-', 'npt=abc-', 'bytes=0-', 'npt=1-now'])
    assert.throws(() => parseRange(v), { code: 'RTSP_BAD_RANGE' }, v);
});
