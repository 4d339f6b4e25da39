import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { Rng } from './rng.ts';

/** Rewrites one input into another; may return the same Buffer changed in place or a new one. */
export type Mutator = (input: Buffer, rng: Rng) => Buffer;

/**
 * One parser under fuzz. A target file in test/fuzz/targets/ exports `target` of this type;
 * the runner finds it by itself, so adding a parser is a one-file change.
 */
export interface FuzzTarget {
  /** Short name for --target and the crashers/ and corpus/ folders. */
  readonly name: string;
  readonly description: string;
  /** Corpus folders (under test/fuzz/corpus/) whose files seed it; default: its own name. */
  readonly corpus?: readonly string[];
  /** Mutated inputs are cut to this many bytes (default 64 KiB). */
  readonly maxInputBytes?: number;
  /** Structure-aware tweaks, used beside the generic byte mutators. */
  readonly mutators?: readonly Mutator[];
  /** Tokens worth inserting or writing over bytes: markers, keywords, separators. */
  readonly dictionary?: readonly Buffer[];
  /**
   * Feeds one input to the parser and checks cheap invariants on what it returned. The
   * module's documented error (see `allowed`) is expected for bad input; anything else it
   * throws, and every InvariantError, is a finding.
   */
  run(input: Buffer): void;
  /** Whether an error thrown by `run` is the documented one. Default: a ProtocolError. */
  allowed?(e: unknown): boolean;
}

/** A broken invariant: never an allowed error, whatever the target allows. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function invariant(ok: unknown, message: string | (() => string)): asserts ok {
  if (!ok) throw new InvariantError(typeof message === 'string' ? message : message());
}

export const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/** Whether `e` is what `target` documents for bad input (never an InvariantError). */
export function isAllowed(target: FuzzTarget, e: unknown): boolean {
  if (e instanceof InvariantError) return false;
  return (target.allowed ?? isProtocolError)(e);
}

/** The code of an allowed error, for the per-code tally ('ProtocolError' codes, else the name). */
export function errorCode(e: unknown): string {
  if (e instanceof ProtocolError) return e.code;
  if (e instanceof Error) return e.name;
  return typeof e;
}

/**
 * Cut points derived from the input's own bytes, so a target that feeds a streaming parser in
 * pieces does it the same way whenever the same input is replayed (crashers, --iteration).
 */
export function splitPoints(input: Buffer, maxPieces: number): number[] {
  if (input.length < 2) return [];
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i += Math.max(1, input.length >> 6)) {
    h = Math.imul(h ^ input[i]!, 0x01000193);
  }
  h = Math.imul(h ^ input.length, 0x01000193) >>> 0;
  const n = h % (maxPieces + 1);
  const cuts: number[] = [];
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    // Half the cuts land in the first 64 bytes, where headers are.
    cuts.push((h & 1) === 0 ? h % Math.min(64, input.length) : h % input.length);
  }
  return [...new Set(cuts)].sort((a, b) => a - b);
}

/** `input` cut at `cuts` into consecutive views. */
export function pieces(input: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, input.length]) {
    out.push(input.subarray(at, c));
    at = c;
  }
  return out;
}
