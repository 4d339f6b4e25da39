import { ProtocolError } from '../errors/protocol-error.ts';
import type { AmfObject, AmfValue } from './types.ts';

/**
 * Maximum container nesting (objects, arrays) in one value. Decoding recurses once per
 * level, so without a bound a few KB of `03 00 01 61 03 ...` from the network would
 * overflow the JS stack (a RangeError, not a ProtocolError). Real commands and metadata
 * nest 2-3 levels; 64 leaves ample room.
 */
export const MAX_AMF_DEPTH = 64;

/** Throws AMF_TOO_DEEP when a container at `depth` (0 = top level) would exceed the limit. */
export function checkDepth(depth: number): void {
  if (depth >= MAX_AMF_DEPTH) {
    throw new ProtocolError('AMF_TOO_DEEP', `AMF value nests deeper than ${MAX_AMF_DEPTH} levels`);
  }
}

/**
 * Sets a property without ever invoking the `__proto__` setter: a network key "__proto__"
 * becomes an ordinary own property instead of replacing the object's prototype.
 */
export function setProperty(obj: AmfObject, key: string, value: AmfValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * Cap on the bytes that references (AMF0 0x07, AMF3 string and object references) stand
 * for in one decode call. References let ~1 KB of input describe a DAG that is 2^60
 * values wide when walked as a tree (each level holding two references to the one
 * below), or one large string repeated millions of times, and consumers do walk decoded
 * values: re-encoding metadata, logging, deep comparison. With this cap a decoded value
 * written back out is at most about its input size plus 1 MiB. Real encoders (ffmpeg,
 * OBS, Flash) use few references or none.
 */
export const MAX_REFERENCED_BYTES = 1024 * 1024;

/** Bytes stood for by references so far in one decode call. */
export interface ExpansionBudget {
  referencedBytes: number;
}

/**
 * A reference-table entry. `size` is the bytes it stands for (its own encoding plus what
 * references inside it stand for), or -1 while it is still being decoded.
 */
export interface RefEntry<T = AmfValue> {
  value: T;
  size: number;
}

/**
 * Resolves a reference, charging its size to the budget. References to a value still
 * being decoded (cycles) are rejected: a cyclic result would hang or crash any consumer
 * that walks it.
 */
export function resolveReference<T>(
  table: readonly RefEntry<T>[],
  index: number,
  budget: ExpansionBudget,
  what: string,
): T {
  const entry = lookupReference(table, index, what);
  if (entry.size < 0) {
    throw new ProtocolError('AMF_BAD_REFERENCE', `${what} reference ${index} is cyclic`);
  }
  budget.referencedBytes += entry.size;
  if (budget.referencedBytes > MAX_REFERENCED_BYTES) {
    throw new ProtocolError(
      'AMF_TOO_LARGE',
      `AMF references stand for more than ${MAX_REFERENCED_BYTES} bytes`,
    );
  }
  return entry.value;
}

/** Looks up a reference-table entry, rejecting indices the sender never defined. */
export function lookupReference<T>(table: readonly T[], index: number, what: string): T {
  if (index >= table.length) {
    throw new ProtocolError(
      'AMF_BAD_REFERENCE',
      `${what} reference ${index} out of range (table has ${table.length} entries)`,
    );
  }
  return table[index]!;
}
