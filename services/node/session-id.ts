import { randomBytes } from 'node:crypto';

/** Short unique session ids for logs and APIs: a prefix for the kind plus 8 hex chars. */
export function sessionId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
