import { randomBytes } from 'node:crypto';

/** A fresh random id for this process (16 hex digits): unique even when node ids collide. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}
