import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RtspReader } from '../../../libs/rtsp/index.ts';
import type { RtspItem, RtspReaderLimits } from '../../../libs/rtsp/index.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';

const FIXTURES = new URL('../../fixtures/rtsp/', import.meta.url);
/** ffmpeg 5.1 publishing H.264 + AAC over TCP (see test/fixtures/rtsp/README.md), cut at 16 KiB. */
const FFMPEG_PUBLISH = readFileSync(new URL('ffmpeg-publish-tcp.bin', FIXTURES));
const FFMPEG_H265 = readFileSync(new URL('ffmpeg-publish-h265-tcp.bin', FIXTURES));

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

const SDP = crlf(`v=0
o=- 0 0 IN IP4 127.0.0.1
s=No Name
t=0 0
m=video 0 RTP/AVP 96
a=rtpmap:96 H264/90000
a=control:streamid=0
`);

/** A GStreamer-like play session with pipelined requests, a keep-alive CRLF and RTCP frames. */
const GST_STYLE = Buffer.concat([
  crlf('OPTIONS rtsp://h:5544/live/cam RTSP/1.0\nCSeq: 1\nUser-Agent: GStreamer/1.22.0\n\n'),
  crlf('DESCRIBE rtsp://h:5544/live/cam RTSP/1.0\nCSeq: 2\nAccept: application/sdp\n\n'),
  crlf(
    'SETUP rtsp://h:5544/live/cam/trackID=0 RTSP/1.0\nCSeq: 3\n' +
      'Transport: RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1\n\n',
  ),
  crlf('PLAY rtsp://h:5544/live/cam/ RTSP/1.0\nCSeq: 4\nSession: ABCDEF0123456789\nRange: npt=0-\n\n'),
  Buffer.from('\r\n'),
  Buffer.from([0x24, 0x01, 0x00, 0x08, 0x81, 0xc9, 0x00, 0x01, 1, 2, 3, 4]),
  crlf(
    `ANNOUNCE rtsp://h/live/x RTSP/1.0\nCSeq: 5\nContent-Type: application/sdp\nContent-Length: ${SDP.length}\n\n`,
  ),
  SDP,
  Buffer.from([0x24, 0x00, 0x00, 0x00]),
  crlf('GET_PARAMETER rtsp://h/live/x RTSP/1.0\nCSeq: 6\nSession: ABCDEF0123456789\n\n'),
]);

/** What a client reads: responses, one with a body, and frames. */
const RESPONSES = Buffer.concat([
  crlf('RTSP/1.0 200 OK\nCSeq: 1\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\n\n'),
  crlf(
    `RTSP/1.0 200 OK\nCSeq: 2\nContent-Base: rtsp://h/live/cam/\nContent-Type: application/sdp\nContent-Length: ${SDP.length}\n\n`,
  ),
  SDP,
  crlf(
    'RTSP/1.0 401 Unauthorized\nCSeq: 3\nWWW-Authenticate: Digest realm="r", nonce="n"\nWWW-Authenticate: Basic realm="r"\n\n',
  ),
  Buffer.from([0x24, 0x00, 0x00, 0x03, 0x80, 0x60, 0x00]),
  crlf('RTSP/1.0 454 Session Not Found\nCSeq: 4\n\n'),
]);

function summarize(items: RtspItem[]): unknown[] {
  return items.map((i) => {
    if (i.type === 'interleaved') return ['$', i.channel, i.payload.toString('hex')];
    if (i.type === 'request') {
      const r = i.request;
      return [r.method, r.uri, [...r.headers.entries()], r.body.toString('latin1')];
    }
    const r = i.response;
    return [r.status, r.reason, [...r.headers.entries()], r.body.toString('latin1')];
  });
}

function splitRun(input: Buffer, at: number[], limits?: Partial<RtspReaderLimits>): unknown[] | string {
  const reader = new RtspReader(limits);
  const out: RtspItem[] = [];
  let from = 0;
  try {
    for (const cut of [...at, input.length]) {
      out.push(...reader.push(Buffer.from(input.subarray(from, cut))));
      from = cut;
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return e.code;
  }
  return summarize(out);
}

test('rtsp reader: ffmpeg publish capture: requests, SDP body, interleaved RTP/RTCP', () => {
  const reader = new RtspReader();
  const items = reader.push(FFMPEG_PUBLISH);
  const requests = items.flatMap((i) => (i.type === 'request' ? [i.request] : []));
  assert.deepEqual(
    requests.map((r) => r.method),
    ['OPTIONS', 'ANNOUNCE', 'SETUP', 'SETUP', 'RECORD'],
  );
  assert.match(requests[1]!.body.toString(), /^v=0\r\n[\s\S]*MPEG4-GENERIC\/44100\/2/);
  assert.equal(requests[2]!.headers.get('transport'), 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
  const frames = items.filter((i) => i.type === 'interleaved');
  assert.ok(frames.length > 5);
  assert.ok(frames.every((f) => f.channel <= 3));
  // Payloads inside one push are views of it (zero-copy).
  assert.equal(frames[0]!.payload.buffer, FFMPEG_PUBLISH.buffer);
  // The capture is cut mid-frame: the rest is held, bounded.
  assert.ok(reader.bufferedBytes > 0 && reader.bufferedBytes <= reader.maxBufferedBytes);
});

for (const [name, input] of [
  ['ffmpeg publish (H.264 + AAC)', FFMPEG_PUBLISH.subarray(0, 3000)],
  ['ffmpeg publish (H.265)', FFMPEG_H265.subarray(0, 3000)],
  ['GStreamer-style play session', GST_STYLE],
  ['responses', RESPONSES],
] as const) {
  test(`rtsp reader: ${name} split at every offset gives identical items`, () => {
    const whole = splitRun(input, []);
    assert.ok(Array.isArray(whole) && whole.length > 0);
    for (let at = 0; at <= input.length; at++)
      assert.deepEqual(splitRun(input, [at]), whole, `split at ${at}`);
    const bytes = Array.from({ length: input.length }, (_, i) => i);
    assert.deepEqual(splitRun(input, bytes), whole, 'byte by byte');
  });
}

test('rtsp reader: the whole ffmpeg capture in 3 pieces at many offsets', () => {
  const whole = splitRun(FFMPEG_PUBLISH, []);
  for (let a = 0; a < FFMPEG_PUBLISH.length; a += 97) {
    assert.deepEqual(
      splitRun(FFMPEG_PUBLISH, [a, Math.min(FFMPEG_PUBLISH.length, a + 1500)]),
      whole,
      `at ${a}`,
    );
  }
});

test('rtsp reader: GStreamer-style items', () => {
  const items = summarize(new RtspReader().push(GST_STYLE));
  assert.equal(items.length, 8);
  assert.deepEqual(items[4], ['$', 1, '81c9000101020304']);
  assert.deepEqual(items[6], ['$', 0, '']);
  const responses = new RtspReader().push(RESPONSES);
  const r401 = responses[2];
  assert.ok(r401?.type === 'response');
  assert.deepEqual(r401.response.headers.getAll('www-authenticate'), [
    'Digest realm="r", nonce="n"',
    'Basic realm="r"',
  ]);
  assert.equal(responses[4]?.type === 'response' && responses[4].response.reason, 'Session Not Found');
});

test('rtsp reader: LF-only line ends, folded headers, empty reason', () => {
  const items = new RtspReader().push(
    Buffer.from('OPTIONS * RTSP/1.0\nCSeq: 7\nX-Long: a\n  b\n\nRTSP/1.0 200\r\nCSeq: 7\r\n\r\n'),
  );
  assert.deepEqual(summarize(items), [
    [
      'OPTIONS',
      '*',
      [
        ['CSeq', '7'],
        ['X-Long', 'a b'],
      ],
      '',
    ],
    [200, '', [['CSeq', '7']], ''],
  ]);
});

const LIMIT_CASES: {
  name: string;
  input: string | Buffer;
  limits?: Partial<RtspReaderLimits>;
  code: string;
}[] = [
  { name: 'bad start byte', input: '\x00OPTIONS', code: 'RTSP_BAD_START_LINE' },
  { name: 'two words', input: 'OPTIONS rtsp://h\r\n\r\n', code: 'RTSP_BAD_START_LINE' },
  { name: 'HTTP version', input: 'OPTIONS * HTTP/1.1\r\n\r\n', code: 'RTSP_BAD_VERSION' },
  { name: 'RTSP/2.0', input: 'OPTIONS * RTSP/2.0\r\n\r\n', code: 'RTSP_BAD_VERSION' },
  { name: 'response version', input: 'RTSP/1.1 200 OK\r\n\r\n', code: 'RTSP_BAD_VERSION' },
  { name: 'bad status', input: 'RTSP/1.0 2000 OK\r\n\r\n', code: 'RTSP_BAD_START_LINE' },
  { name: 'header without colon', input: 'OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n', code: 'RTSP_BAD_HEADER' },
  { name: 'bare CR in value', input: 'OPTIONS * RTSP/1.0\r\nCSeq: 1\rX: y\r\n\r\n', code: 'RTSP_BAD_HEADER' },
  { name: 'continuation first', input: 'OPTIONS * RTSP/1.0\r\n x\r\n\r\n', code: 'RTSP_BAD_HEADER' },
  {
    name: 'Content-Length not digits',
    input: 'ANNOUNCE x RTSP/1.0\r\nContent-Length: -1\r\n\r\n',
    code: 'RTSP_BAD_CONTENT_LENGTH',
  },
  {
    name: 'Content-Length twice, different',
    input: 'ANNOUNCE x RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    code: 'RTSP_BAD_CONTENT_LENGTH',
  },
  {
    name: 'body over 64 KiB',
    input: 'ANNOUNCE x RTSP/1.0\r\nContent-Length: 65537\r\n\r\n',
    code: 'RTSP_BODY_TOO_LARGE',
  },
  {
    name: 'body over a set limit',
    input: 'ANNOUNCE x RTSP/1.0\r\nContent-Length: 11\r\n\r\n',
    limits: { maxBodyBytes: 10 },
    code: 'RTSP_BODY_TOO_LARGE',
  },
  {
    name: 'head over 8 KiB',
    input: `OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(8200)}\r\n\r\n`,
    code: 'RTSP_HEADER_TOO_LARGE',
  },
  {
    name: 'endless head',
    input: `OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(9000)}`,
    code: 'RTSP_HEADER_TOO_LARGE',
  },
  {
    name: 'head over a set limit',
    input: 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n',
    limits: { maxHeaderBytes: 30 },
    code: 'RTSP_HEADER_TOO_LARGE',
  },
  {
    name: '65 headers',
    input: `OPTIONS * RTSP/1.0\r\n${'X: 1\r\n'.repeat(65)}\r\n`,
    code: 'RTSP_TOO_MANY_HEADERS',
  },
  {
    name: 'headers over a set count',
    input: 'OPTIONS * RTSP/1.0\r\nA: 1\r\nB: 2\r\n\r\n',
    limits: { maxHeaderCount: 1 },
    code: 'RTSP_TOO_MANY_HEADERS',
  },
];

for (const c of LIMIT_CASES) {
  test(`rtsp reader limit: ${c.name} -> ${c.code}, whole and split`, () => {
    const input = typeof c.input === 'string' ? Buffer.from(c.input, 'latin1') : c.input;
    assert.equal(splitRun(input, [], c.limits), c.code);
    for (let at = 0; at <= input.length; at += Math.max(1, input.length >> 5)) {
      assert.equal(splitRun(input, [at], c.limits), c.code, `split at ${at}`);
    }
  });
}

test('rtsp reader: exactly at the limits is accepted', () => {
  const head = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n';
  assert.equal(new RtspReader({ maxHeaderBytes: head.length }).push(Buffer.from(head)).length, 1);
  const body = Buffer.alloc(10, 0x61);
  const msg = Buffer.concat([Buffer.from('ANNOUNCE x RTSP/1.0\r\nContent-Length: 10\r\n\r\n'), body]);
  assert.equal(new RtspReader({ maxBodyBytes: 10 }).push(msg).length, 1);
  const many = `OPTIONS * RTSP/1.0\r\n${'X: 1\r\n'.repeat(64)}\r\n`;
  assert.equal(new RtspReader().push(Buffer.from(many)).length, 1);
});

test('rtsp reader: a dead reader rethrows; buffered bytes stay bounded', () => {
  const reader = new RtspReader();
  assert.throws(() => reader.push(Buffer.from('OPTIONS * HTTP/1.0\r\n\r\n')), { code: 'RTSP_BAD_VERSION' });
  assert.throws(() => reader.push(Buffer.from('OPTIONS * RTSP/1.0\r\n\r\n')), { code: 'RTSP_BAD_VERSION' });

  const r = new RtspReader();
  r.push(Buffer.from([0x24, 0x00, 0xff, 0xff]));
  for (let i = 0; i < 100; i++) r.push(Buffer.alloc(600));
  assert.equal(r.bufferedBytes, 60000);
  r.push(Buffer.alloc(65535 - 60000));
  assert.equal(r.bufferedBytes, 0);
  assert.equal(r.maxBufferedBytes, 65536);
});

test('rtsp reader: a body spanning pushes is a copy', () => {
  const msg = Buffer.from('ANNOUNCE x RTSP/1.0\r\nContent-Length: 4\r\n\r\nabcd');
  const r = new RtspReader();
  const first = Buffer.from(msg.subarray(0, msg.length - 2));
  assert.deepEqual(r.push(first), []);
  assert.equal(r.bufferedBytes, 2);
  first.fill(0);
  const items = r.push(Buffer.from('cd'));
  assert.equal(items[0]?.type === 'request' && items[0].request.body.toString(), 'abcd');
});
