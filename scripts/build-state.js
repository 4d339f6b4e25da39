// @ts-check
// Whether dist/ must be (re)built: cheap enough to run before every `npm start` and once per test
// process (a few hundred stat calls, no TypeScript).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Written first into every build; its mtime is the time the build read the sources. */
export const STAMP = '.build-stamp';

/** What the build reads: directories are walked (their own mtimes catch deleted and renamed files). */
const INPUTS = [
  'libs',
  'services',
  'bin',
  'conf',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.js',
  'scripts/build-state.js',
];

/**
 * True when `root/dist` has no stamp, or anything the build reads was modified at or after the
 * stamp (the same file-system tick counts as after: a needless rebuild beats a stale one). A copy
 * without sources (the production bundle) is stale only when dist/ is missing.
 * @param {string} root
 */
export function buildIsStale(root) {
  let stampMs;
  try {
    stampMs = statSync(join(root, 'dist', STAMP)).mtimeMs;
  } catch {
    return true;
  }
  if (newestMtimeMs(join(root, 'services')) < 0) return false; // no sources to compile
  for (const input of INPUTS) {
    if (newestMtimeMs(join(root, input)) >= stampMs) return true;
  }
  return false;
}

/** @param {string} path @returns {number} the newest mtime at or under `path`; -1 when absent */
export function newestMtimeMs(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return -1;
  }
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  }
  return newest;
}
