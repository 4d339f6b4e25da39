import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProtocolError } from '../../../../libs/errors/protocol-error.ts';
import { RtspHeaders, type RtspRequest } from '../../../../libs/rtsp/index.ts';
import {
  chooseTransport,
  fromPeer,
  peerAddress,
  streamOf,
  tcpTransportReply,
  udpTransportReply,
} from '../../../../services/node/rtsp/session-common.ts';
import type { UdpPair } from '../../../../services/node/rtsp/udp-ports.ts';

const STREAMS: [string, ReturnType<typeof streamOf>][] = [
  ['rtsp://h:5544/live/cam1', { key: 'live/cam1', query: {}, control: null }],
  ['rtsp://h:5544/live/cam1/', { key: 'live/cam1', query: {}, control: null }],
  ['rtsps://h/live/cam1/trackID=1', { key: 'live/cam1', query: {}, control: 'trackID=1' }],
  ['rtsp://h:5544/live/cam1?token=abc', { key: 'live/cam1', query: { token: 'abc' }, control: null }],
  [
    'rtsp://h:5544/live/cam1?token=abc/trackID=0',
    { key: 'live/cam1', query: { token: 'abc' }, control: 'trackID=0' },
  ],
  ['rtsp://h:5544/live/cam1/streamid=1', { key: 'live/cam1', query: {}, control: 'streamid=1' }],
  ['/a/b/c', { key: 'a/b/c', query: {}, control: null }],
  ['rtsp://user:pw@h/live/x%2Dy', { key: 'live/x-y', query: {}, control: null }],
  ['rtsp://h/cam1', null],
  ['rtsp://h/', null],
  ['rtsp://h/live/..', null],
  ['rtsp://h/live/a%20b', null],
  ['rtsp://h/live/%E0%A4%A', null],
];

for (const [uri, want] of STREAMS) {
  test(`streamOf(${JSON.stringify(uri)})`, () => {
    assert.deepEqual(streamOf(uri), want);
  });
}

test('streamOf: a URI that is not rtsp(s) is a ProtocolError (the request gets a 400)', () => {
  for (const uri of ['*', 'http://h/live/x'])
    assert.throws(
      () => streamOf(uri),
      (e) => isProtocolError(e),
      uri,
    );
});

const req = (transport?: string): RtspRequest => ({
  method: 'SETUP',
  uri: 'rtsp://h/live/x/trackID=0',
  headers: new RtspHeaders(transport === undefined ? [] : [['Transport', transport]]),
  body: Buffer.alloc(0),
});

const TRANSPORTS: [string, string | undefined, boolean, 'tcp' | 'udp' | null][] = [
  ['TCP interleaved', 'RTP/AVP/TCP;unicast;interleaved=0-1', false, 'tcp'],
  ['UDP when enabled', 'RTP/AVP;unicast;client_port=5000-5001', true, 'udp'],
  ['UDP when disabled', 'RTP/AVP;unicast;client_port=5000-5001', false, null],
  [
    'UDP, then TCP, UDP disabled: TCP',
    'RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3',
    false,
    'tcp',
  ],
  [
    'UDP first when enabled',
    'RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3',
    true,
    'udp',
  ],
  ['UDP without client_port', 'RTP/AVP;unicast', true, null],
  ['multicast only', 'RTP/AVP;multicast;port=5000-5001', true, null],
  ['no Transport header', undefined, true, null],
];

for (const [name, value, udp, want] of TRANSPORTS) {
  test(`chooseTransport: ${name}`, () => {
    assert.equal(chooseTransport(req(value), udp)?.protocol ?? null, want);
  });
}

test('chooseTransport: a Transport of no RTP/AVP profile is a ProtocolError', () => {
  assert.throws(
    () => chooseTransport(req('RAW/RAW/UDP;unicast'), true),
    (e) => isProtocolError(e),
  );
});

const PEERS: [string | undefined, { host: string; family: 'udp4' | 'udp6' }][] = [
  ['192.0.2.1', { host: '192.0.2.1', family: 'udp4' }],
  ['::ffff:192.0.2.1', { host: '192.0.2.1', family: 'udp4' }],
  ['2001:db8::1', { host: '2001:db8::1', family: 'udp6' }],
  ['::1', { host: '::1', family: 'udp6' }],
  [undefined, { host: '127.0.0.1', family: 'udp4' }],
];

for (const [remote, want] of PEERS) {
  test(`peerAddress(${remote})`, () => assert.deepEqual(peerAddress(remote), want));
}

const FROM: [string, string, boolean][] = [
  ['192.0.2.1', '192.0.2.1', true],
  ['::ffff:192.0.2.1', '192.0.2.1', true],
  ['192.0.2.2', '192.0.2.1', false],
  ['2001:db8::1', '2001:db8::1', true],
  ['2001:db8::2', '2001:db8::1', false],
];

for (const [from, host, want] of FROM) {
  test(`fromPeer(${from}, ${host}) = ${want}`, () => assert.equal(fromPeer({ address: from }, host), want));
}

test('transport replies', () => {
  assert.equal(
    tcpTransportReply({ protocol: 'tcp', multicast: false, interleaved: [4, 5] }, 0),
    'RTP/AVP/TCP;unicast;interleaved=0-1',
  );
  const pair = { rtpPort: 30000 } as UdpPair;
  const udp = udpTransportReply(
    { protocol: 'udp', multicast: false, clientPort: [5000, 5001] },
    pair,
    'record',
  );
  assert.match(udp, /^RTP\/AVP;unicast;client_port=5000-5001;server_port=30000-30001;mode=/i);
});
