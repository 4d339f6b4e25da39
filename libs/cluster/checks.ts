import { isStreamKey } from '../names/stream-key.ts';
import type { Holder } from './types.ts';

/**
 * Argument checks both registries share, so the in-memory one refuses exactly what the Redis
 * one does. Keys and ids end up inside Redis hash tags (`{s:<key>}`) and NATS subjects.
 */

const NODE_ID = /^[^\s{}]{1,256}$/;
const INSTANCE_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function checkStreamKey(key: string): void {
  if (!isStreamKey(key)) throw new Error(`registry: invalid stream key ${JSON.stringify(key)}`);
}

export function checkNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) throw new Error(`registry: invalid node id ${JSON.stringify(nodeId)}`);
}

export function checkInstanceId(instanceId: string): void {
  if (!INSTANCE_ID.test(instanceId))
    throw new Error(`registry: invalid instance id ${JSON.stringify(instanceId)}`);
}

export function checkHolder(h: Holder): void {
  checkNodeId(h.nodeId);
  checkInstanceId(h.instanceId);
}

/** Leases and TTLs are whole milliseconds (Redis PX takes integers). */
export function checkMs(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`registry: ${name} must be a positive integer`);
}

export function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch <= 0)
    throw new Error('registry: epoch must be a positive integer');
}
