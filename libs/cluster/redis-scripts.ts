import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis stream registry. Each touches only its KEYS, which share one
 * hash tag, so they run unchanged on Redis Cluster. Time is the caller's `Date.now()` passed
 * in ARGV (never Redis TIME): processes on one machine agree, and the stored `expiresAt` means
 * the same thing to the Node code and to the scripts. Redis also expires the owner hash by PX,
 * so a dead node's claim disappears even if nobody reads it.
 *
 * Owner hash fields: nodeId, epoch, since, expiresAt (ms, decimal strings), media (JSON).
 */

export interface LuaScript {
  readonly name: string;
  readonly numKeys: number;
  readonly lua: string;
  readonly sha1: string;
}

function script(name: string, numKeys: number, lua: string): LuaScript {
  return { name, numKeys, lua, sha1: createHash('sha1').update(lua).digest('hex') };
}

/**
 * KEYS: owner hash, epoch counter. ARGV: nodeId, nowMs, leaseMs, expiresAtMs.
 * Free (missing, or expired by the caller's clock) or already ours: INCR the epoch (the
 * counter never expires and is seeded from the clock, so epochs are never reused, even after
 * Redis lost its data) and write a fresh owner; a re-claim of
 * our own key is a republish and gets a new epoch and empty media.
 * Returns {1, epoch} or {0, nodeId, epoch, since, expiresAt, media}.
 */
export const claimScript = script(
  'claim',
  2,
  `
local cur = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'since', 'expiresAt', 'media')
if cur[1] and cur[1] ~= ARGV[1] and tonumber(cur[4]) > tonumber(ARGV[2]) then
  return {0, cur[1], cur[2], cur[3], cur[4], cur[5]}
end
-- A missing counter (first claim ever, or Redis lost its data) starts from the caller's
-- clock in ms, so epochs keep increasing even across a Redis restart without persistence.
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[2])
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'nodeId', ARGV[1], 'epoch', epoch, 'since', ARGV[2],
  'expiresAt', ARGV[4], 'media', '{}')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, epoch}
`,
);

/**
 * KEYS: owner hash. ARGV: nodeId, epoch, nowMs, leaseMs, expiresAtMs.
 * Extends the lease only while (nodeId, epoch) still holds a live claim. Returns 1 or 0.
 */
export const refreshScript = script(
  'refresh',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'expiresAt')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] or tonumber(cur[3]) <= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`,
);

/**
 * KEYS: owner hash. ARGV: nodeId, epoch, nowMs.
 * Deletes the claim if (nodeId, epoch) holds it. Returns 1 if it was live, 0 otherwise (an
 * expired claim of ours that Redis has not dropped yet is deleted too, but reports 0 as the
 * in-memory registry does).
 */
export const releaseScript = script(
  'release',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'expiresAt')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
if tonumber(cur[3]) <= tonumber(ARGV[3]) then
  return 0
end
return 1
`,
);

/**
 * KEYS: owner hash. ARGV: nodeId, epoch, nowMs, mediaJson.
 * Stores media info only for the live claim of (nodeId, epoch). Returns 1 or 0.
 */
export const setMediaScript = script(
  'setMedia',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'expiresAt')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] or tonumber(cur[3]) <= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], 'media', ARGV[4])
return 1
`,
);
