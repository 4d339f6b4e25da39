// A short mutation-fuzzing run of every target (test/fuzz/targets/), seeded with the real
// captures in test/fuzz/corpus/: a few thousand inputs each must give only the documented
// error. `npm run fuzz` runs the same targets for longer. FUZZ_SEED picks another run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSeeds } from './engine/corpus.ts';
import { fuzz } from './engine/fuzz.ts';
import { loadTargets } from './engine/registry.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20240607) >>> 0;
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
/** Slow targets (the config loaders write a file and validate four schemas) get fewer. */
const RUNS_BY_TARGET: Record<string, number> = { config: Math.ceil(RUNS / 4) };

for (const target of await loadTargets()) {
  test(`mutation fuzz ${target.name}: only documented errors (seed ${SEED})`, () => {
    const seeds = loadSeeds(target).map((s) => s.bytes);
    assert.ok(seeds.length > 0, `no seeds in test/fuzz/corpus/ for ${target.name}`);
    const runs = RUNS_BY_TARGET[target.name] ?? RUNS;
    const stats = fuzz({ target, seeds, seed: SEED, runs, maxFindings: 1, minimize: false });
    assert.equal(stats.runs, runs);
    const f = stats.findings[0];
    assert.equal(
      f,
      undefined,
      f &&
        `${f.summary}\nreproduce: npm run fuzz -- --target ${target.name} --seed ${SEED} --iteration ${f.iteration}`,
    );
    // The seeds must mostly reach the parser's success path, or the run explores nothing.
    assert.ok(stats.ok > 0, `no input of ${target.name} parsed`);
  });
}
