import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAddresses } from '../../../libs/cluster/types.ts';
import {
  hostOf,
  isPlayProtocol,
  ownerUrls,
  playUrl,
  publishUrl,
  type PlayProtocol,
} from '../../../services/scheduler/urls.ts';

const edge: NodeAddresses = {
  rtmp: 'edge.example:1935',
  http: 'edge.example:8080',
  api: 'edge.example:8083',
};
const v6: NodeAddresses = { rtmp: '[2001:db8::1]:1935', http: '[2001:db8::1]:8080' };

const cases: [PlayProtocol, NodeAddresses, string | null][] = [
  ['rtmp', edge, 'rtmp://edge.example:1935/live/a'],
  ['flv', edge, 'http://edge.example:8080/live/a.flv'],
  ['ws-flv', edge, 'ws://edge.example:8080/live/a.flv'],
  ['ts', edge, 'http://edge.example:8080/live/a.ts'],
  ['hls', edge, 'http://edge.example:8080/live/a.m3u8'],
  ['rtsp', edge, null],
  ['rtsp', { ...edge, rtsp: 'edge.example:8554' }, 'rtsp://edge.example:8554/live/a'],
  ['rtsp', { ...v6, rtsp: '[2001:db8::1]:5544' }, 'rtsp://[2001:db8::1]:5544/live/a'],
  ['flv', v6, 'http://[2001:db8::1]:8080/live/a.flv'],
  ['rtmp', { http: 'h:8080' }, null],
  ['flv', { rtmp: 'h:1935' }, null],
  ['hls', {}, null],
  ['rtsp', {}, null],
];

for (const [protocol, addrs, want] of cases) {
  test(`playUrl ${protocol} ${JSON.stringify(addrs)}`, () => {
    assert.equal(playUrl(protocol, addrs, 'live/a'), want);
  });
}

test('multi-segment apps keep their slashes', () => {
  assert.equal(playUrl('flv', edge, 'live/sub/a'), 'http://edge.example:8080/live/sub/a.flv');
});

test('isPlayProtocol', () => {
  for (const p of ['rtmp', 'flv', 'ws-flv', 'ts', 'hls', 'rtsp']) assert.ok(isPlayProtocol(p), p);
  for (const p of ['', 'FLV', 'm3u8', 'webrtc', '__proto__', 'toString']) assert.ok(!isPlayProtocol(p), p);
});

test('hostOf', () => {
  assert.equal(hostOf('a.example:1935'), 'a.example');
  assert.equal(hostOf('[::1]:1935'), '[::1]');
  assert.equal(hostOf('noport'), 'noport');
});

test('publishUrl and ownerUrls', () => {
  assert.equal(publishUrl(edge, 'live/a'), 'rtmp://edge.example:1935/live/a');
  assert.equal(publishUrl({ http: 'h:1' }, 'live/a'), null);
  assert.deepEqual(ownerUrls(edge, { rtmp: '10.0.0.5:1935' }, 'live/a'), {
    rtmp: 'rtmp://edge.example:1935/live/a',
    flv: 'http://edge.example:8080/live/a.flv',
    'ws-flv': 'ws://edge.example:8080/live/a.flv',
    internalRtmp: 'rtmp://10.0.0.5:1935/live/a',
  });
  assert.deepEqual(ownerUrls({}, {}, 'live/a'), {});
});
