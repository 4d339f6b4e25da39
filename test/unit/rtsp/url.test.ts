import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtspUrl, resolveControl, splitControl } from '../../../libs/rtsp/index.ts';

test('parseRtspUrl', () => {
  assert.deepEqual(parseRtspUrl('rtsp://h/live/cam'), {
    secure: false,
    host: 'h',
    port: 554,
    path: '/live/cam',
    query: '',
  });
  assert.deepEqual(parseRtspUrl('rtsps://h'), { secure: true, host: 'h', port: 322, path: '/', query: '' });
  assert.deepEqual(parseRtspUrl('RTSP://u%40x:p%3Aw%20d@[::1]:5544/a/b?token=1#frag'), {
    secure: false,
    host: '::1',
    port: 5544,
    path: '/a/b',
    query: 'token=1',
    username: 'u@x',
    password: 'p:w d',
  });
  assert.deepEqual(parseRtspUrl('rtsp://admin@10.0.0.1:554'), {
    secure: false,
    host: '10.0.0.1',
    port: 554,
    path: '/',
    query: '',
    username: 'admin',
  });
  for (const u of [
    'http://h/a',
    'rtsp://',
    'rtsp://h:0/a',
    'rtsp://h:65536/',
    'rtsp://h:x/',
    'rtsp://[::zz]/',
    'rtsp://[::1/',
    'rtsp://u:%zz@h/',
    'rtsp://h/a b',
    'rtsp:/h',
  ]) {
    assert.throws(() => parseRtspUrl(u), { code: 'RTSP_BAD_URL' }, u);
  }
});

test('splitControl', () => {
  const cases: [string, string, string | null][] = [
    ['rtsp://h:5544/live/cam1/trackID=1', 'live/cam1', 'trackID=1'],
    ['rtsp://h:5544/live/cam1', 'live/cam1', null],
    ['rtsp://h:5544/live/cam1/', 'live/cam1', null],
    ['rtsp://h/live/cam1/streamid=0', 'live/cam1', 'streamid=0'],
    ['rtsp://h/live/cam1/track2', 'live/cam1', 'track2'],
    ['rtsp://h/live/cam1?token=abc', 'live/cam1', null],
    ['rtsp://h/live/cam1/trackID=0?token=abc', 'live/cam1', 'trackID=0'],
    ['rtsp://h/live/cam1?token=abc/trackID=0', 'live/cam1', 'trackID=0'],
    ['/live/cam1/trackID=3', 'live/cam1', 'trackID=3'],
    ['rtsp://[::1]:5544/live/trackIDx', 'live/trackIDx', null],
  ];
  for (const [uri, path, control] of cases) assert.deepEqual(splitControl(uri), { path, control }, uri);
  assert.throws(() => splitControl('*'), { code: 'RTSP_BAD_URL' });
});

test('resolveControl', () => {
  const cases: [string, string, string][] = [
    ['rtsp://h/live/cam/', 'trackID=0', 'rtsp://h/live/cam/trackID=0'],
    ['rtsp://h/live/cam', 'trackID=0', 'rtsp://h/live/cam/trackID=0'],
    ['rtsp://h/live/cam', '*', 'rtsp://h/live/cam'],
    [
      'rtsp://h/live/cam',
      'rtsp://cam:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
      'rtsp://cam:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
    ],
    ['rtsp://h:8554/live/cam', '/other/track1', 'rtsp://h:8554/other/track1'],
    ['rtsp://h/live/cam?token=1', 'streamid=0', 'rtsp://h/live/cam?token=1/streamid=0'],
  ];
  for (const [base, control, want] of cases) assert.equal(resolveControl(base, control), want);
  // Our own SDP's controls resolve to URIs splitControl understands.
  assert.deepEqual(splitControl(resolveControl('rtsp://h:5544/live/cam1/', 'trackID=1')), {
    path: 'live/cam1',
    control: 'trackID=1',
  });
});
