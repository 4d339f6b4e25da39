import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFor, relayPullFromLal, relayPullFromV1 } from '../../../../../services/node/api/relay-map.ts';

test('lal start_relay_pull: absent fields take lal defaults', () => {
  const r = relayPullFromLal({ url: 'rtmp://src.example/live/cam1' });
  assert.deepEqual(r, {
    ok: true,
    req: {
      url: 'rtmp://src.example/live/cam1',
      key: 'live/cam1',
      retryNum: 0,
      autoStopAfterNoViewersMs: -1,
      timeoutMs: 10000,
      rtspTransport: 'tcp',
    },
  });
});

test('lal start_relay_pull: every field mapped', () => {
  const r = relayPullFromLal({
    url: 'rtsp://cam.example:554/h264/ch1',
    stream_name: 'door',
    app_name: 'cams',
    pull_timeout_ms: 8000,
    pull_retry_num: -1,
    auto_stop_pull_after_no_out_ms: 0,
    rtsp_mode: 1,
  });
  assert.ok(r.ok);
  assert.deepEqual(r.req, {
    url: 'rtsp://cam.example:554/h264/ch1',
    key: 'cams/door',
    retryNum: -1,
    autoStopAfterNoViewersMs: 0,
    timeoutMs: 8000,
    rtspTransport: 'udp',
  });
});

test("lal start_relay_pull: a Go client's zero values (lal's dispatch demo) are defaults, not errors", () => {
  const r = relayPullFromLal({
    url: 'rtmp://127.0.0.1:19361/live/dtest?lal_cluster_inner_pull=1',
    stream_name: '',
    pull_timeout_ms: 0,
    pull_retry_num: 0,
    auto_stop_pull_after_no_out_ms: 0,
    rtsp_mode: 0,
    debug_dump_packet: '',
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.req, {
    url: 'rtmp://127.0.0.1:19361/live/dtest?lal_cluster_inner_pull=1',
    key: 'live/dtest',
    retryNum: 0,
    autoStopAfterNoViewersMs: 0,
    timeoutMs: 10000,
    rtspTransport: 'tcp',
  });
});

const table: [string, Record<string, unknown>, { missing: boolean } | string][] = [
  ['no url', {}, { missing: true }],
  ['empty url', { url: '' }, { missing: true }],
  ['bad scheme', { url: 'file:///etc/passwd' }, { missing: false }],
  ['bad rtsp_mode', { url: 'rtsp://h/a/b', rtsp_mode: 2 }, { missing: false }],
  ['bad retry', { url: 'rtmp://h/a/b', pull_retry_num: -2 }, { missing: false }],
  ['fractional timeout', { url: 'rtmp://h/a/b', pull_timeout_ms: 1.5 }, { missing: false }],
  ['negative timeout', { url: 'rtmp://h/a/b', pull_timeout_ms: -1 }, { missing: false }],
  ['string number', { url: 'rtmp://h/a/b', pull_retry_num: '3' }, { missing: false }],
  ['bad key', { url: 'rtmp://h/a/b', stream_name: '../x' }, { missing: false }],
  ['flv name from url', { url: 'http://h:8080/live/t.flv' }, 'live/t'],
  ['full key as stream_name', { url: 'rtmp://h/a/b', stream_name: 'x/y' }, 'x/y'],
  ['name only, app from url', { url: 'rtmp://h/app1/b', stream_name: 'z' }, 'app1/z'],
];

for (const [name, body, want] of table) {
  test(`lal start_relay_pull: ${name}`, () => {
    const r = relayPullFromLal(body);
    if (typeof want === 'string') {
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.req.key, want);
    } else {
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.missing, want.missing);
    }
  });
}

test('keyFor: a URL without an app falls back to live', () => {
  assert.equal(keyFor('s', undefined, 'rtmp://h/s'), 'live/s');
  assert.equal(keyFor('s', undefined, 'not a url'), 'live/s');
});

test('/api/v1 relay pull body: camelCase fields, key required', () => {
  const r = relayPullFromV1({ url: 'rtsp://h/a', key: 'live/a', rtspTransport: 'udp', retryNum: 3 });
  assert.ok(r.ok);
  assert.equal(r.req.rtspTransport, 'udp');
  assert.equal(r.req.retryNum, 3);
  assert.equal(r.req.key, 'live/a');
  assert.equal(relayPullFromV1({ url: 'rtsp://h/a' }).ok, false);
  assert.equal(relayPullFromV1({ url: 'rtsp://h/a', key: 'live/a', rtspTransport: 'sctp' }).ok, false);
});
