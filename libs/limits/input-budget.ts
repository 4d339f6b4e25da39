/**
 * The node-wide budget for memory that network input makes a node hold before it is a complete
 * message: partial RTMP messages, split chunk headers, handshake packets. Per-connection limits
 * bound one peer; this bounds all of them together, so many connections that each stay under
 * their own limit cannot add up to more than the operator allowed. One instance per node,
 * injected; each connection opens an account and closes it when the connection ends.
 */
export class InputBudget {
  readonly budgetBytes: number;
  private used = 0;

  constructor(budgetBytes: number) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 0) {
      throw new RangeError(`input budget must be a non-negative integer, got ${budgetBytes}`);
    }
    this.budgetBytes = budgetBytes;
  }

  /** Bytes currently charged by every open account. */
  get bufferedBytes(): number {
    return this.used;
  }

  /** A connection's account; close it when the connection ends. */
  open(): InputAccount {
    return new InputAccount(this);
  }

  /**
   * Reserves `bytes` if the budget has room; with `spare` (memory beyond what a peer sent, taken
   * for speed) only if the budget stays at most half used. Prefer an account, which cannot leak.
   */
  tryReserve(bytes: number, spare = false): boolean {
    if (this.used + bytes > (spare ? this.budgetBytes / 2 : this.budgetBytes)) return false;
    this.used += bytes;
    return true;
  }

  /** Returns bytes reserved earlier. */
  release(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * One connection's share of an InputBudget. `close()` returns everything still charged, whatever
 * state the connection's parsers were left in (error, destroy, normal end), so nothing leaks.
 */
export class InputAccount {
  private readonly budget: InputBudget;
  private held = 0;
  private closed = false;

  constructor(budget: InputBudget) {
    this.budget = budget;
  }

  /** Bytes this account holds. */
  get heldBytes(): number {
    return this.held;
  }

  /** Charges `bytes` (see tryReserve); false, charging nothing, when the budget says no or after close. */
  tryCharge(bytes: number, spare = false): boolean {
    if (this.closed || !this.budget.tryReserve(bytes, spare)) return false;
    this.held += bytes;
    return true;
  }

  /** Returns `bytes` charged earlier (never more than the account holds). */
  release(bytes: number): void {
    const n = Math.min(bytes, this.held);
    this.held -= n;
    this.budget.release(n);
  }

  /** Returns everything this account holds; later charges fail. Idempotent. */
  close(): void {
    this.closed = true;
    this.release(this.held);
  }
}
