import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListen } from '../../../libs/config/listen.ts';
import { ConfigError } from '../../../libs/config/load.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';

const file = (obj: unknown): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'sluice-cfg-')), 'c.json');
  writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
};

test('config: defaults fill every key, lal-compatible ports', () => {
  const c = loadStandaloneConfig(undefined, {});
  assert.equal(c.rtmp.listen, ':1935');
  assert.equal(c.http.listen, ':8080');
  assert.equal(c.api.listen, ':8083');
  assert.equal(c.stream.waitPublisherMs, 30_000);
  assert.equal(c.limits.handshakeTimeoutMs, 10_000);
});

test('config: every invalid key is reported at once, by name', () => {
  const p = file({ rtmp: { listen: 5, bogus: 1 }, viewer: { maxBufferedBytes: -1 }, log: { level: 'loud' } });
  try {
    loadStandaloneConfig(p, {});
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = e.problems.join('\n');
    for (const key of ['rtmp.listen', 'rtmp.bogus', 'viewer.maxBufferedBytes', 'log.level'])
      assert.match(text, new RegExp(key.replace('.', '\\.')));
  }
});

test('config: environment overrides the file, and bad values name the variable', () => {
  const p = file({ http: { listen: ':9000' } });
  const c = loadStandaloneConfig(p, { SLUICE_HTTP_LISTEN: '127.0.0.1:9001', SLUICE_NODE_ID: 'n1' });
  assert.equal(c.http.listen, '127.0.0.1:9001');
  assert.equal(c.nodeId, 'n1');
  assert.throws(() => loadStandaloneConfig(p, { SLUICE_RTMP_LISTEN: 'nope' }), /SLUICE_RTMP_LISTEN/);
  assert.throws(() => loadStandaloneConfig(file('{not json'), {}), /not valid JSON/);
  assert.throws(() => loadStandaloneConfig('/nonexistent/x.json', {}), /cannot read/);
});

test('config: listen addresses', () => {
  assert.deepEqual(parseListen(':1935'), { host: '0.0.0.0', port: 1935 });
  assert.deepEqual(parseListen('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
  for (const bad of ['1935', 'h:99999', 'h:', ':x', '::1:80']) assert.throws(() => parseListen(bad));
});

test('config: a listen port over 65535 is a config error naming the key, for every listener', () => {
  for (const key of ['rtmp', 'http', 'api'] as const) {
    const p = file({ [key]: { listen: ':99999' } });
    assert.throws(
      () => loadStandaloneConfig(p, {}),
      (e) => e instanceof ConfigError && e.problems.some((x) => x.startsWith(`${key}.listen:`)),
    );
  }
  for (const ok of [':65535', ':0', '127.0.0.1:00080', '[::1]:8080']) {
    assert.equal(loadStandaloneConfig(file({ rtmp: { listen: ok } }), {}).rtmp.listen, ok);
  }
});
