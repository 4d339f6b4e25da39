/**
 * Bad input from the network. Raised by parsers, caught at the session boundary:
 * it ends that one session (logged once, counted by `code`) and never the process.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const isProtocolError = (e: unknown): e is ProtocolError => e instanceof ProtocolError;
