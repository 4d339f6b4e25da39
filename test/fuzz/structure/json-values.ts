import type { Rng } from '../engine/rng.ts';
import type { Mutator } from '../engine/target.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const VALUES: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  0.5,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 31,
  65535,
  65536,
  99999,
  '',
  ' ',
  ':99999',
  ':0',
  '[::1]:8080',
  'host:1935',
  '0.0.0.0:65536',
  'a'.repeat(300),
  '\u0000',
  '../..',
  'nats://',
  'tls://x',
  'redis://',
  'redis://:@/',
  'redis-sentinel://h/',
  'rediss-cluster://a,b',
  '%zz',
  [],
  {},
  [null],
  { x: 1 },
];
const DEEP = '\u0001deep\u0001';
const KEYS = [
  '__proto__',
  'constructor',
  'listen',
  'enabled',
  'level',
  'x',
  '',
  'maxConnections',
  'redisUrl',
];

/**
 * JSON-aware tweaks: parse, change one value somewhere (to a value of another type, an extreme
 * number, a malformed address or URL), drop or add a key, or nest deeply, then print it again.
 * Input that is not JSON is left to the byte mutators.
 */
export const jsonMutator: Mutator = (buf, rng) => {
  let doc: Json;
  try {
    doc = JSON.parse(buf.toString('utf8')) as Json;
  } catch {
    return buf;
  }
  const slots = collect(doc);
  const slot = rng.pick(slots);
  const replace = (v: Json): Json => (slot.parent === null ? v : (set(slot.parent, slot.key, v), doc));
  switch (rng.below(6)) {
    case 0:
    case 1:
      doc = replace(rng.pick(VALUES));
      break;
    case 2:
      doc = replace(typeof slot.value === 'number' ? tweakNumber(slot.value, rng) : rng.pick(VALUES));
      break;
    case 3:
      if (slot.parent && !Array.isArray(slot.parent)) delete slot.parent[slot.key];
      break;
    case 4: {
      const obj = slots.find(
        (s) => s.value !== null && typeof s.value === 'object' && !Array.isArray(s.value),
      );
      if (obj) (obj.value as Record<string, Json>)[rng.pick(KEYS)] = rng.pick(VALUES);
      break;
    }
    default:
      // Written as text: JSON.stringify itself would overflow the stack on deep nesting.
      doc = replace(DEEP);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(doc, null, rng.oneIn(2) ? 2 : 0);
  } catch {
    return buf; // an input already nested too deep to print
  }
  const n = rng.pick([10, 100, 5000]);
  return Buffer.from((text ?? '').replace(`"${DEEP}"`, `${'['.repeat(n)}1${']'.repeat(n)}`));
};

interface Slot {
  parent: Json[] | Record<string, Json> | null;
  key: string;
  value: Json;
}

function collect(doc: Json): Slot[] {
  const out: Slot[] = [{ parent: null, key: '', value: doc }];
  const walk = (v: Json): void => {
    if (v === null || typeof v !== 'object' || out.length > 500) return;
    for (const [k, x] of Object.entries(v)) {
      out.push({ parent: v, key: k, value: x });
      walk(x);
    }
  };
  walk(doc);
  return out;
}

function set(parent: Json[] | Record<string, Json>, key: string, v: Json): void {
  if (Array.isArray(parent)) parent[Number(key)] = v;
  else parent[key] = v;
}

function tweakNumber(n: number, rng: Rng): number {
  return rng.pick([n + 1, n - 1, -n, n * 1000, n / 2, 0, Number.MAX_SAFE_INTEGER]);
}
