import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_DIR } from './corpus.ts';

export const CRASHERS_DIR = join(FUZZ_DIR, 'crashers');

export const shortHash = (input: Buffer): string =>
  createHash('sha256').update(input).digest('hex').slice(0, 12);

/**
 * Writes a crasher as crashers/<target>/<hash>.bin, with a .txt beside it saying what it broke
 * and how it was found. Returns the .bin path (relative to the fuzz folder).
 */
export function writeCrasher(target: string, input: Buffer, note: string): string {
  const dir = join(CRASHERS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const name = shortHash(input);
  writeFileSync(join(dir, `${name}.bin`), input);
  writeFileSync(join(dir, `${name}.txt`), note.endsWith('\n') ? note : `${note}\n`);
  return `crashers/${target}/${name}.bin`;
}

/** Every crasher on disk: target folder name, file name, bytes. */
export function listCrashers(): { target: string; file: string; input: Buffer }[] {
  const out: { target: string; file: string; input: Buffer }[] = [];
  let targets: string[];
  try {
    targets = readdirSync(CRASHERS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return out;
  }
  for (const target of targets) {
    for (const file of readdirSync(join(CRASHERS_DIR, target)).sort()) {
      if (file.endsWith('.bin')) {
        out.push({ target, file, input: readFileSync(join(CRASHERS_DIR, target, file)) });
      }
    }
  }
  return out;
}
