/**
 * The registry could not send a call at all (no connection within the timeout, or closed).
 * Unlike a call that timed out waiting for its reply, such a call certainly did not run, so a
 * caller need not clean up after it.
 */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
  readonly code = 'REGISTRY_UNAVAILABLE';
}

/** False only when the call provably never reached the store. */
export function maybeExecuted(e: unknown): boolean {
  return !(e instanceof RegistryUnavailableError);
}
