import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzTarget } from './target.ts';

export const FUZZ_DIR = new URL('..', import.meta.url).pathname;
export const CORPUS_DIR = join(FUZZ_DIR, 'corpus');

/** Corpus folders a target draws seeds from. */
export const corpusDirs = (t: FuzzTarget): readonly string[] => t.corpus ?? [t.name];

/** Every seed file of the target, in a fixed order (folder, then file name), so runs repeat. */
export function loadSeeds(t: FuzzTarget): { name: string; bytes: Buffer }[] {
  const out: { name: string; bytes: Buffer }[] = [];
  for (const dir of corpusDirs(t)) {
    const path = join(CORPUS_DIR, dir);
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.endsWith('.md') || !statSync(join(path, n)).isFile()) continue;
      out.push({ name: `${dir}/${n}`, bytes: readFileSync(join(path, n)) });
    }
  }
  return out;
}
