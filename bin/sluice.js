#!/usr/bin/env node
// Entry point for `npx sluice`, `npm start` and the container image: runs the compiled build in
// dist/ (`npm run build`; `npm start` builds it when missing or stale). No TypeScript loader at
// run time: faster start, less memory, nothing written to disk.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/services/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sluice: dist/ is missing: run `npm run build` first (`npm start` does it for you)\n');
  process.exit(1);
}
await import(entry.href);
