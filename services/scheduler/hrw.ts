import { createHash } from 'node:crypto';

/**
 * Weighted rendezvous (highest-random-weight) hashing. Every scheduler replica computes the
 * same score for (key, node) without sharing state, so one stream's viewers gather on the
 * same few edges, and removing an edge only moves the keys that were on it.
 *
 * Weights follow the logarithmic method (Schindelhauer & Schomaker, "Weighted distributed
 * hash tables", 2005): score = -w / ln(h) with h uniform in (0, 1). A node then wins a key
 * with probability w / sum(w), so an edge with three times the free capacity gets three times
 * the streams.
 */

const TWO_POW_48 = 2 ** 48;

/** A uniform number in the open interval (0, 1) from (key, nodeId); stable across processes and releases. */
export function hash01(key: string, nodeId: string): number {
  // NUL cannot occur in keys or node ids, so ("a", "bc") and ("ab", "c") hash differently.
  const d = createHash('sha256').update(key).update('\0').update(nodeId).digest();
  // 48 bits fit a double exactly; +0.5 keeps the result away from 0 and 1.
  return (d.readUIntBE(0, 6) + 0.5) / TWO_POW_48;
}

/** The weighted HRW score; the highest wins. A weight of 0 (or less) never wins against a positive one. */
export function hrwScore(key: string, nodeId: string, weight: number): number {
  if (!(weight > 0)) return 0;
  return -weight / Math.log(hash01(key, nodeId));
}

/** The item with the highest score for `key`; ties (equal weight and hash, practically never) go to the smaller id. */
export function hrwPick<T>(
  key: string,
  items: readonly T[],
  id: (t: T) => string,
  weight: (t: T) => number,
): T | null {
  let best: T | null = null;
  let bestScore = -1;
  let bestId = '';
  for (const it of items) {
    const nodeId = id(it);
    const s = hrwScore(key, nodeId, weight(it));
    if (s > bestScore || (s === bestScore && nodeId < bestId)) {
      best = it;
      bestScore = s;
      bestId = nodeId;
    }
  }
  return best;
}
