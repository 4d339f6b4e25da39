import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../libs/config/load.ts';
import { loadEdgeConfig } from '../../../services/edge/config.ts';
import { loadOriginConfig } from '../../../services/origin/config.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';

const file = (obj: unknown): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'sluice-cfg-')), 'c.json');
  writeFileSync(p, JSON.stringify(obj));
  return p;
};

test('record config: off by default, lal-like directories, 8 MiB queue', () => {
  for (const c of [loadStandaloneConfig(undefined, {}), loadOriginConfig(undefined, {})]) {
    assert.deepEqual(c.record, {
      flv: { enabled: false, dir: './record/flv' },
      ts: { enabled: false, dir: './record/ts', resumeWithinMs: 60_000 },
      maxQueueBytes: 8 * 1024 * 1024,
    });
  }
});

test('record config: directories from the environment win over the file', () => {
  const p = file({ record: { flv: { enabled: true, dir: '/a' }, ts: { dir: '/b' } } });
  const env = { SLUICE_RECORD_FLV_DIR: '/srv/flv', SLUICE_RECORD_TS_DIR: '/srv/ts' };
  for (const c of [loadStandaloneConfig(p, env), loadOriginConfig(p, env)]) {
    assert.equal(c.record.flv.enabled, true);
    assert.equal(c.record.flv.dir, '/srv/flv');
    assert.equal(c.record.ts.dir, '/srv/ts');
  }
});

test('record config: bad values are named; an edge has no record section (it never records)', () => {
  assert.throws(
    () => loadStandaloneConfig(file({ record: { flv: { dir: '' }, maxQueueBytes: 10, bogus: 1 } }), {}),
    (e: unknown) =>
      e instanceof ConfigError &&
      ['record.flv.dir', 'record.maxQueueBytes', 'record.bogus'].every((k) =>
        e.problems.join('\n').includes(k),
      ),
  );
  assert.throws(
    () => loadEdgeConfig(file({ record: { flv: { enabled: true } } }), {}),
    (e: unknown) => e instanceof ConfigError && /record/.test(e.problems.join('\n')),
  );
  assert.equal(
    (loadEdgeConfig(undefined, { SLUICE_RECORD_FLV_DIR: '/x' }) as { record?: unknown }).record,
    undefined,
  );
});
