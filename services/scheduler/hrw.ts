/**
 * Weighted rendezvous (highest-random-weight) hashing. Every scheduler replica computes the
 * same score for (key, node) without sharing state, so one stream's viewers gather on the
 * same few edges, and removing an edge only moves the keys that were on it.
 *
 * Weights follow the logarithmic method (Schindelhauer & Schomaker, "Weighted distributed
 * hash tables", 2005): score = -w / ln(h) with h uniform in (0, 1). A node then wins a key
 * with probability w / sum(w), so an edge with three times the free capacity gets three times
 * the streams.
 *
 * The hash is not cryptographic (nobody gains by predicting it: a client only picks which key
 * it asks for), but it is fixed: 32-bit integer arithmetic only, so every replica and every
 * release computes the same bits. A string is hashed once into a seed (two independent 32-bit
 * words); the per-(key, node) value mixes two seeds with the MurmurHash3 finalizer, so routing
 * over N edges costs N integer mixes and N logarithms, with no string work per edge.
 */

/** Two independent 32-bit hashes of a string. */
export interface HrwSeed {
  readonly a: number;
  readonly b: number;
}

const TWO_POW_21 = 2 ** 21;
const TWO_POW_53 = 2 ** 53;

/** MurmurHash3's 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One pass over the UTF-16 code units: xor, multiply by an odd constant, fold high bits down. */
function hashString(s: string, seed: number, mul: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), mul);
    h ^= h >>> 15;
  }
  return fmix32(h ^ s.length);
}

export function seedOf(s: string): HrwSeed {
  return { a: hashString(s, 0x3c6ef372, 0x9e3779b1), b: hashString(s, 0x1b873593, 0x85ebca77) };
}

/** A uniform number in the open interval (0, 1) from two seeds (a key's and a node's). */
export function unit(key: HrwSeed, node: HrwSeed): number {
  // The node's words are multiplied first so that (key, node) and (node, key) differ, and a key
  // equal to a node id does not cancel out to 0.
  const hi = fmix32((key.a ^ Math.imul(node.a, 0x9e3779b1)) + 0x6a09e667);
  const lo = fmix32(key.b ^ Math.imul(node.b, 0x85ebca77) ^ Math.imul(hi, 0x27d4eb2f));
  // 53 bits fit a double exactly; +0.5 keeps the result away from 0 and 1.
  return (hi * TWO_POW_21 + (lo >>> 11) + 0.5) / TWO_POW_53;
}

/** hash01 of two strings (tests and one-off callers; hot paths keep seeds). */
export function hash01(key: string, nodeId: string): number {
  return unit(seedOf(key), seedOf(nodeId));
}

/** The weighted HRW score from seeds; the highest wins. A weight of 0 (or less, or NaN) scores 0. */
export function seededScore(key: HrwSeed, node: HrwSeed, weight: number): number {
  if (!(weight > 0)) return 0;
  return -weight / Math.log(unit(key, node));
}

export function hrwScore(key: string, nodeId: string, weight: number): number {
  return seededScore(seedOf(key), seedOf(nodeId), weight);
}

/** The item with the highest score for `key`; ties (equal weight and hash, practically never) go to the smaller id. */
export function hrwPick<T>(
  key: string,
  items: readonly T[],
  id: (t: T) => string,
  weight: (t: T) => number,
  seed: (t: T) => HrwSeed = (t) => seedOf(id(t)),
): T | null {
  const k = seedOf(key);
  let best: T | null = null;
  let bestScore = -1;
  let bestId = '';
  for (const it of items) {
    const s = seededScore(k, seed(it), weight(it));
    if (s > bestScore || (s === bestScore && id(it) < bestId)) {
      best = it;
      bestScore = s;
      bestId = id(it);
    }
  }
  return best;
}
