import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../libs/log/logger.ts';

let version: string | undefined;

/** Sluice's version: package.json's, found upward from this file (in the sources and in dist/). */
export function sluiceVersion(): string {
  if (version !== undefined) return version;
  version = 'unknown';
  for (let dir = dirname(fileURLToPath(import.meta.url)); ;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'sluice' && pkg.version) return (version = pkg.version);
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir);
    if (up === dir) return version;
    dir = up;
  }
}

/** The first line every role logs: what runs, on which Node.js. */
export function logStart(log: Logger, role: string): void {
  log.info({ version: sluiceVersion(), role, nodejs: process.version }, 'sluice starting');
}
