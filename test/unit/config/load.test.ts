import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTEN_PATTERN, parseListen } from '../../../libs/config/listen.ts';
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
  // The API (control included) listens on loopback in standalone; origins and edges keep :8083.
  assert.equal(c.api.listen, '127.0.0.1:8083');
  assert.equal(c.api.token, '');
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
  const good: [string, { host: string; port: number }][] = [
    // Empty host: every interface, IPv4 and IPv6 (libs/http/listen.ts binds it dual-stack).
    [':1935', { host: '', port: 1935 }],
    ['0.0.0.0:1', { host: '0.0.0.0', port: 1 }],
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
    ['[::]:65535', { host: '::', port: 65535 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['media.example:8080', { host: 'media.example', port: 8080 }],
    // 0: a free port the system picks (what tests use).
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['127.0.0.1:00080', { host: '127.0.0.1', port: 80 }],
  ];
  for (const [text, want] of good) {
    assert.deepEqual(parseListen(text), want, text);
    assert.match(text, new RegExp(LISTEN_PATTERN), `the schema accepts ${text}`);
  }
  const bad = ['1935', 'h:99999', '127.0.0.1:65536', ':001935', 'h:', ':x', '::1:80', '[::1]80', ':-1', ''];
  for (const text of bad) {
    assert.throws(() => parseListen(text), /port 1-65535/, text);
    assert.doesNotMatch(text, new RegExp(LISTEN_PATTERN), `the schema refuses ${text}`);
  }
});

test('config: a port out of range in the file is refused by the schema, naming the key', () => {
  const p = file({ rtmp: { listen: '127.0.0.1:99999' }, api: { listen: ':65536' } });
  try {
    loadStandaloneConfig(p, {});
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems, [
      'rtmp.listen: "127.0.0.1:99999" is not host:port, :port or [v6]:port with a port 1-65535 (0: any free port)',
      'api.listen: ":65536" is not host:port, :port or [v6]:port with a port 1-65535 (0: any free port)',
    ]);
  }
  assert.throws(
    () => loadStandaloneConfig(undefined, { SLUICE_HTTP_LISTEN: '[::]:70000' }),
    /http\.listen: invalid listen address "\[::\]:70000".* \(from SLUICE_HTTP_LISTEN\)/,
  );
});

test('config: a "$schema" key (for editors) is accepted and ignored', () => {
  const p = file({ $schema: './standalone.schema.json', http: { listen: ':9000' } });
  assert.equal(loadStandaloneConfig(p, {}).http.listen, ':9000');
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
