import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUZZ_DIR } from './corpus.ts';
import type { FuzzTarget } from './target.ts';

const TARGETS_DIR = join(FUZZ_DIR, 'targets');

/**
 * Every target in test/fuzz/targets/: each file exports `target` (one FuzzTarget) or
 * `targets` (several that share code). Sorted by name; names must be unique.
 */
export async function loadTargets(): Promise<FuzzTarget[]> {
  const out: FuzzTarget[] = [];
  for (const file of readdirSync(TARGETS_DIR).sort()) {
    if (!file.endsWith('.ts')) continue;
    const mod = (await import(pathToFileURL(join(TARGETS_DIR, file)).href)) as {
      target?: FuzzTarget;
      targets?: readonly FuzzTarget[];
    };
    const found = [...(mod.target ? [mod.target] : []), ...(mod.targets ?? [])];
    if (found.length === 0) throw new Error(`test/fuzz/targets/${file} exports no target`);
    out.push(...found);
  }
  const names = new Set<string>();
  for (const t of out) {
    if (names.has(t.name)) throw new Error(`two fuzz targets are named ${t.name}`);
    names.add(t.name);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The targets `spec` names: 'all', or a comma-separated list. */
export function selectTargets(all: readonly FuzzTarget[], spec: string): FuzzTarget[] {
  if (spec === 'all') return [...all];
  return spec.split(',').map((n) => {
    const t = all.find((x) => x.name === n.trim());
    if (!t) throw new Error(`unknown fuzz target "${n}"; --list shows them`);
    return t;
  });
}
