import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The scheduler runs without media code (issue #6): nothing it loads, directly or through
// other modules, may come from libs/rtmp (stream-key rules live in libs/names).

const ROOT = resolve(new URL('../../../', import.meta.url).pathname);
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of a TypeScript file, resolved to paths under the repository. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Every file reachable from `roots` through relative imports, with the chain that reached it. */
function closure(roots: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const todo = [...roots];
  while (todo.length) {
    const f = todo.pop()!;
    if (!f.endsWith('.ts')) continue;
    for (const dep of importsOf(f)) {
      if (seen.has(dep)) continue;
      seen.set(dep, [...seen.get(f)!, dep]);
      todo.push(dep);
    }
  }
  return seen;
}

const schedulerFiles = readdirSync(join(ROOT, 'services/scheduler'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(ROOT, 'services/scheduler', f));

test('no services/scheduler file imports libs/rtmp, directly or indirectly', () => {
  assert.ok(schedulerFiles.length > 10, 'found the scheduler sources');
  const reached = closure(schedulerFiles);
  const rtmp = [...reached].filter(([f]) => relative(ROOT, f).startsWith('libs/rtmp/'));
  assert.deepEqual(
    rtmp.map(([, chain]) => chain.map((c) => relative(ROOT, c)).join(' -> ')),
    [],
  );
});

test('the check sees imports (it would catch one)', () => {
  // services/origin/ownership.ts imports libs/rtmp/commands.ts: the same walk must find it.
  const reached = closure([join(ROOT, 'services/origin/ownership.ts')]);
  assert.ok([...reached.keys()].some((f) => relative(ROOT, f).startsWith('libs/rtmp/')));
});
