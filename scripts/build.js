#!/usr/bin/env node
// @ts-check
// `npm run build`: the TypeScript of libs/ and services/ compiled by tsc into dist/, plus the JSON
// files the code reads at run time (libs/**/*.json: the event schemas; services/**/*.json: the OpenAPI document). `bin/sluice.js` runs dist/.
//
//   node scripts/build.js             build now
//   node scripts/build.js --if-stale  build only when dist/ is missing or older than a source
//
// Plain JavaScript on purpose: `npm start` runs the staleness check before every start, and it
// must cost milliseconds, not a TypeScript loader. The build goes to a fresh directory that
// replaces dist/ only when it is complete, under a lock, so concurrent test runs never see a
// half-written dist/ and never build twice.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsStale, STAMP } from './build-state.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const LOCK = join(ROOT, '.dist-lock');
const LOCK_STALE_MS = 120_000;

/** Directories copied into dist/ unchanged: the web console's pages, served as they are. */
const STATIC_DIRS = ['services/node/console'];

const ifStale = process.argv.includes('--if-stale');

if (ifStale && !buildIsStale(ROOT)) process.exit(0);
await withLock(() => {
  // Someone else may have built while we waited for the lock.
  if (ifStale && !buildIsStale(ROOT)) return;
  build();
});

function build() {
  let tsc;
  try {
    tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
  } catch {
    fail(
      existsSync(join(ROOT, 'services'))
        ? 'dist/ is missing or stale and TypeScript is not installed: run `npm ci` (with dev dependencies), then `npm run build`'
        : 'dist/ is missing: this copy has neither the compiled build nor the sources',
    );
  }
  // Holding the lock, any other build directory was left by a build that died: remove it.
  for (const name of readdirSync(ROOT)) {
    if (/^\.dist-(build|old)-\d+$/.test(name)) rmSync(join(ROOT, name), { recursive: true, force: true });
  }
  const out = join(ROOT, `.dist-build-${process.pid}`);
  mkdirSync(out);
  // The stamp is written first: its mtime (the file system's clock) marks which edits the
  // build can contain, so a source saved while tsc runs makes the build stale again.
  writeFileSync(join(out, STAMP), `built by scripts/build.js\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    fail(`tsc failed (exit ${r.status ?? r.signal})`);
  }
  for (const file of [...jsonFilesUnder(join(ROOT, 'libs')), ...jsonFilesUnder(join(ROOT, 'services'))]) {
    const target = join(out, relative(ROOT, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  // The console's browser files as written (tsc also emits its .js files: these replace them).
  for (const dir of STATIC_DIRS) cpSync(join(ROOT, dir), join(out, dir), { recursive: true });
  const old = join(ROOT, `.dist-old-${process.pid}`);
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(out, DIST);
  rmSync(old, { recursive: true, force: true });
  process.stderr.write(`sluice: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** @param {string} dir @returns {string[]} */
function jsonFilesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...jsonFilesUnder(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * Runs `fn` holding a lock directory (mkdir is atomic). A lock older than LOCK_STALE_MS, or
 * whose owner has died, is taken over.
 * @param {() => void} fn
 */
async function withLock(fn) {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
      if (lockIsAbandoned()) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function lockIsAbandoned() {
  try {
    if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    if (!pid) return false; // being written
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // ESRCH: the owner died. ENOENT: the lock (or its pid file) is coming or going; look again.
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'ESRCH';
  }
}

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`sluice: ${message}\n`);
  process.exit(1);
}
