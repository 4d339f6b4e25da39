// Replays every crasher the mutation fuzzer saved (test/fuzz/crashers/<target>/*.bin): each
// must now give only its target's documented error, no broken invariant, within the time limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listCrashers } from './engine/crashers.ts';
import { runOne } from './engine/fuzz.ts';
import { loadTargets } from './engine/registry.ts';

const targets = await loadTargets();
const crashers = listCrashers();

test('fuzz crashers: every crasher folder names a target', () => {
  for (const c of crashers) {
    assert.ok(
      targets.some((t) => t.name === c.target),
      `crashers/${c.target} is no target`,
    );
  }
});

for (const c of crashers) {
  test(`fuzz crasher ${c.target}/${c.file} raises only the allowed error`, () => {
    const target = targets.find((t) => t.name === c.target)!;
    const out = runOne(target, c.input);
    assert.notEqual(out.kind, 'finding', out.kind === 'finding' ? out.summary : '');
  });
}
