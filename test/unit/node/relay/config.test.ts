import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../libs/config/load.ts';
import { backoffMs, BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../../../../services/node/relay/backoff.ts';
import {
  checkRelayConfig,
  pushTarget,
  type RelayConfig,
  type StaticPullConfig,
} from '../../../../services/node/relay/config.ts';
import { sourceFor } from '../../../../services/node/relay/pull.ts';
import { redactRelayUrl } from '../../../../services/node/relay/redact.ts';
import { loadStandaloneConfig } from '../../../../services/standalone/config.ts';

const pull = (url: string, key = 'live/a'): StaticPullConfig => ({
  url,
  key,
  mode: 'always',
  retryNum: -1,
  autoStopAfterNoViewersMs: 10000,
  timeoutMs: 10000,
  rtspTransport: 'tcp',
});

test('sourceFor: the scheme picks the source', () => {
  const cases: [string, ReturnType<typeof sourceFor>][] = [
    ['rtmp://h/a/b', 'rtmp'],
    ['RTMPS://h/a/b', 'rtmp'],
    ['http://h/a/b.flv', 'flv'],
    ['https://h/a/b.flv', 'flv'],
    ['rtsp://h/a', 'rtsp'],
    ['rtsps://h/a', 'rtsp'],
    ['srt://h/a', null],
    ['nonsense', null],
  ];
  for (const [url, want] of cases) assert.equal(sourceFor(url), want, url);
});

test('redactRelayUrl: passwords, queries and (for pushes) the stream name never show', () => {
  const cases: [string, boolean, string][] = [
    ['rtmp://h:1935/live/cam', false, 'rtmp://h:1935/live/cam'],
    ['rtmp://u:pw@h/live/cam?token=x', false, 'rtmp://u:***@h/live/cam?***'],
    ['rtmp://live.cdn.example/app/SECRETKEY', true, 'rtmp://live.cdn.example/app/***'],
    ['rtmps://h/app/k?sig=1', true, 'rtmps://h/app/***?***'],
    ['not a url', false, '***'],
  ];
  for (const [url, hideName, want] of cases) assert.equal(redactRelayUrl(url, { hideName }), want, url);
});

test('pushTarget: exact key, base URL, app filter, a query kept at the end', () => {
  assert.equal(
    pushTarget({ url: 'rtmp://h/app/x', key: 'live/a', timeoutMs: 1 }, 'live/a'),
    'rtmp://h/app/x',
  );
  assert.equal(pushTarget({ url: 'rtmp://h/app/x', key: 'live/a', timeoutMs: 1 }, 'live/b'), null);
  assert.equal(pushTarget({ url: 'rtmp://h/app/', timeoutMs: 1 }, 'live/cam'), 'rtmp://h/app/cam');
  assert.equal(pushTarget({ url: 'rtmp://h/app', app: 'live', timeoutMs: 1 }, 'other/cam'), null);
  assert.equal(pushTarget({ url: 'rtmp://h/app', app: 'a/b', timeoutMs: 1 }, 'a/b/cam'), 'rtmp://h/app/cam');
  assert.equal(pushTarget({ url: 'rtmp://h/app?t=1', timeoutMs: 1 }, 'live/cam'), 'rtmp://h/app/cam?t=1');
});

test('backoffMs: 1 s doubling to 30 s, jittered ±20 %', () => {
  assert.equal(
    backoffMs(1, () => 0.5),
    1000,
  );
  assert.equal(
    backoffMs(2, () => 0.5),
    2000,
  );
  assert.equal(
    backoffMs(5, () => 0.5),
    16000,
  );
  assert.equal(
    backoffMs(6, () => 0.5),
    BACKOFF_MAX_MS,
  );
  assert.equal(
    backoffMs(50, () => 1),
    BACKOFF_MAX_MS,
  );
  assert.equal(
    backoffMs(1, () => 0),
    BACKOFF_MIN_MS,
  );
  assert.equal(
    backoffMs(3, () => 0),
    3200,
  );
});

test('checkRelayConfig: names every bad entry, never a secret', () => {
  const bad: RelayConfig = {
    pulls: [
      pull('ftp://h/x', 'live/a'),
      pull('rtmp://h/only', 'live/b'),
      pull('rtmp://h/live/c', 'nokey'),
      pull('rtsp://h/c', 'live/dup'),
      pull('http://h/c.flv', 'live/dup'),
      pull('rtsp://u:pw@h/x', 'live/taken'),
    ],
    pushes: [
      { url: 'rtmp://h/app/SECRET', key: 'live/a', app: 'live', timeoutMs: 1000 },
      { url: 'rtmp://h', timeoutMs: 1000 },
      { url: 'rtmp://h/app', app: '../x', timeoutMs: 1000 },
    ],
  };
  let err: unknown;
  try {
    checkRelayConfig(bad, ['live/taken']);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const text = err.message;
  for (const want of [
    'relay.pulls[0].url "ftp://h/x" is not an rtmp(s)://, http(s):// (FLV) or rtsp(s):// URL',
    'relay.pulls[1].url',
    'relay.pulls[2].key "nokey" is not a stream key',
    'relay.pulls[4].key "live/dup" is pulled twice',
    'relay.pulls[5].key "live/taken" is pulled twice',
    'relay.pushes[0]: give key or app, not both',
    'relay.pushes[1].url',
    'relay.pushes[2].app',
  ])
    assert.ok(text.includes(want), `missing: ${want}\n${text}`);
  assert.ok(!text.includes('SECRET') && !text.includes(':pw@'), text);
  checkRelayConfig({ pulls: [pull('rtmp://h/live/x'), pull('https://h/live/y.flv', 'live/y')], pushes: [] });
});

test('the schema refuses unknown schemes of pushes and fills pull defaults', () => {
  const dir = mkdtemp();
  const file = `${dir}/c.json`;
  writeFileSync(file, JSON.stringify({ relay: { pushes: [{ url: 'http://h/app' }] } }));
  assert.throws(() => loadStandaloneConfig(file, {}), /relay\.pushes\.0\.url: must match pattern/);
  writeFileSync(file, JSON.stringify({ relay: { pulls: [{ url: 'rtmp://h/live/x', key: 'live/x' }] } }));
  const cfg = loadStandaloneConfig(file, {});
  assert.deepEqual(cfg.relay.pulls[0], pull('rtmp://h/live/x', 'live/x'));
  assert.deepEqual(cfg.relay.pushes, []);
});

function mkdtemp(): string {
  return mkdtempSync(join(tmpdir(), 'relay-config-'));
}
