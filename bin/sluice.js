#!/usr/bin/env node
// Entry point for `npx sluice`, `npm start` and the container image: runs the compiled build in
// dist/ (`npm run build`; `npm start` builds it when missing or stale). No TypeScript loader at
// run time: faster start, less memory, nothing written to disk.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8 favours memory over peak speed: a media node's heap is mostly short-lived frames and
// per-connection objects, and with this flag 1000 players take ~40 MB less resident memory at the
// same CPU (test/bench/README.md). Before anything else is loaded; `node --no-optimize-for-size`
// keeps V8's default.
if (!process.execArgv.includes('--no-optimize-for-size')) setFlagsFromString('--optimize-for-size');

const entry = new URL('../dist/services/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sluice: dist/ is missing: run `npm run build` first (`npm start` does it for you)\n');
  process.exit(1);
}
await import(entry.href);
