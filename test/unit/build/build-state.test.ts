import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIsStale, STAMP } from '../../../scripts/build-state.js';

// `npm start` and every test process that spawns the CLI ask whether dist/ is stale: a wrong
// "fresh" runs old code, a wrong "stale" costs a rebuild. Times are set explicitly (utimes), so
// the cases do not depend on the file system's clock granularity.

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

function checkout(): { root: string; touch: (path: string, s: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'sluice-build-state-'));
  const touch = (path: string, s: number): void => utimesSync(join(root, path), at(s), at(s));
  for (const d of ['libs/config', 'services/cli', 'bin', 'conf', 'dist'])
    mkdirSync(join(root, d), { recursive: true });
  for (const f of [
    'libs/config/load.ts',
    'services/cli/main.ts',
    'bin/sluice.js',
    'conf/edge.json',
    'package.json',
    'tsconfig.json',
  ]) {
    writeFileSync(join(root, f), '');
    touch(f, 0);
  }
  for (const d of ['libs/config', 'libs', 'services/cli', 'services', 'bin', 'conf']) touch(d, 0);
  writeFileSync(join(root, 'dist', STAMP), '');
  touch(`dist/${STAMP}`, 10);
  return { root, touch };
}

test('fresh: nothing the build reads changed since the stamp', () => {
  const { root } = checkout();
  assert.equal(buildIsStale(root), false);
});

test('stale: no dist/, or no stamp in it', () => {
  const { root } = checkout();
  rmSync(join(root, 'dist', STAMP));
  assert.equal(buildIsStale(root), true);
  rmSync(join(root, 'dist'), { recursive: true });
  assert.equal(buildIsStale(root), true);
});

test('stale: a source, a config, the launcher or package.json modified after the stamp', () => {
  for (const f of [
    'libs/config/load.ts',
    'services/cli/main.ts',
    'bin/sluice.js',
    'conf/edge.json',
    'package.json',
    'tsconfig.json',
  ]) {
    const { root, touch } = checkout();
    touch(f, 11);
    assert.equal(buildIsStale(root), true, f);
  }
});

test('stale: a modification in the same instant as the stamp (it may not be in the build)', () => {
  const { root, touch } = checkout();
  touch('services/cli/main.ts', 10);
  assert.equal(buildIsStale(root), true);
});

test('stale: a source deleted or added (its directory changed)', () => {
  const { root, touch } = checkout();
  rmSync(join(root, 'libs/config/load.ts'));
  touch('libs/config', 12);
  assert.equal(buildIsStale(root), true);
});

test('a copy without sources (the production bundle) is fresh whenever dist/ is there', () => {
  const { root, touch } = checkout();
  rmSync(join(root, 'services'), { recursive: true });
  rmSync(join(root, 'libs'), { recursive: true });
  touch('package.json', 20); // copied into the bundle after the build
  assert.equal(buildIsStale(root), false);
  rmSync(join(root, 'dist'), { recursive: true });
  assert.equal(buildIsStale(root), true);
});
