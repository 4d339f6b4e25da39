// The mutation fuzzer itself: inputs repeat from (seed, iteration), findings are told apart
// from documented errors, minimized, and the CLI runs targets in workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { fuzz, generateInput, runOne } from './engine/fuzz.ts';
import { loadTargets } from './engine/registry.ts';
import { pieces, splitPoints } from './engine/target.ts';
import type { FuzzTarget } from './engine/target.ts';

const SEEDS = [Buffer.from('0123456789abcdef0123456789abcdef'), Buffer.from('hello, fuzzer')];
const quiet: FuzzTarget = { name: 'quiet', description: '', run: () => undefined };

test('fuzz engine: an input is a function of (seed, target, iteration) alone', () => {
  const a = Array.from({ length: 50 }, (_, i) => generateInput(quiet, SEEDS, 9, 100 + i));
  const b = Array.from({ length: 50 }, (_, i) => generateInput(quiet, SEEDS, 9, 149 - i)).reverse();
  assert.deepEqual(a, b);
  const other = Array.from({ length: 50 }, (_, i) => generateInput(quiet, SEEDS, 10, 100 + i));
  assert.ok(a.filter((x, i) => !x.equals(other[i]!)).length > 40, 'another seed gives other inputs');
  assert.ok(a.filter((x) => !SEEDS.some((s) => s.equals(x))).length > 40, 'inputs are mutated');
  // The first iterations are the seeds themselves.
  assert.deepEqual(
    [0, 1].map((i) => generateInput(quiet, SEEDS, 9, i)),
    SEEDS,
  );
});

test('fuzz engine: split points come from the input, and the pieces put it back together', () => {
  for (const s of SEEDS) {
    assert.deepEqual(splitPoints(s, 6), splitPoints(Buffer.from(s), 6));
    assert.ok(Buffer.concat(pieces(s, splitPoints(s, 6))).equals(s));
  }
});

test('fuzz engine: documented errors pass, anything else is a finding, minimized', () => {
  // Bad input: a ProtocolError for any 'x'; a TypeError (the bug) when a 'Z' follows a 'Q'.
  const buggy: FuzzTarget = {
    name: 'buggy',
    description: '',
    dictionary: [Buffer.from('QZ')],
    run(input) {
      const s = input.toString('latin1');
      if (s.includes('QZ')) throw new TypeError('boom');
      if (s.includes('x')) throw new ProtocolError('X', 'x');
    },
  };
  const stats = fuzz({
    target: buggy,
    seeds: [Buffer.from('abcdefgh'), Buffer.from('xyz')],
    seed: 1,
    runs: 5000,
  });
  assert.ok((stats.codes.X ?? 0) > 0 && stats.ok > 0);
  assert.equal(stats.findings.length, 1);
  const f = stats.findings[0]!;
  assert.match(f.signature, /^TypeError: boom/);
  assert.equal(f.input.toString('latin1'), 'QZ');
  assert.equal(
    runOne(buggy, generateInput(buggy, [Buffer.from('abcdefgh'), Buffer.from('xyz')], 1, f.iteration)).kind,
    'finding',
  );
});

test('fuzz engine: a call over the time limit is a finding', () => {
  const slow: FuzzTarget = {
    name: 'slow',
    description: '',
    run() {
      const end = Date.now() + 30;
      while (Date.now() < end);
    },
  };
  const out = runOne(slow, Buffer.alloc(1), 10);
  assert.equal(out.kind, 'finding');
  assert.equal(out.kind === 'finding' && out.signature, 'slow');
});

test('fuzz CLI: --list names every target, a short run of two targets passes', async () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'test/fuzz/run.ts', ...args], {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
  const list = run('--list');
  assert.equal(list.status, 0, list.stderr);
  for (const t of await loadTargets()) assert.match(list.stdout, new RegExp(`^${t.name} `, 'm'));
  const short = run('--target', 'aac-asc,rtmp-control', '--runs', '500', '--seed', '3');
  assert.equal(short.status, 0, short.stdout + short.stderr);
  assert.match(short.stdout, /^aac-asc: 500 inputs .* findings 0/m);
  assert.match(short.stdout, /^rtmp-control: 500 inputs .* findings 0/m);
  const one = run('--target', 'amf0', '--seed', '3', '--iteration', '1234');
  assert.equal(one.status, 0);
  assert.match(one.stdout, /amf0 seed 3 iteration 1234: \d+ bytes/);
});
