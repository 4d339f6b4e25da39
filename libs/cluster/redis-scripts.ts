import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis stream registry. Each touches only its KEYS, which share one
 * hash tag, so they run unchanged on Redis Cluster.
 *
 * Time is Redis's alone (DESIGN "Time and identity"): leases are PX expiries, and where a
 * script needs "now" (claim times, index scores) it reads `TIME` itself. No caller's clock is
 * passed in or compared, so a node whose clock is off cannot take or keep a key it should not.
 * (Redis 7 replicates script effects, so TIME inside a writing script is allowed.)
 *
 * Owner hash fields: nodeId, instanceId, epoch, since (ms, Redis clock), addr, media (JSON).
 * Claims belong to an instance (one process), not to a node id.
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

/** Redis's clock in ms, inside a script. */
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** How long an epoch counter outlives its last claim: epochs follow the clock, so a counter that expired is not needed to keep them increasing. */
export const EPOCH_COUNTER_TTL_MS = 86_400_000;

/**
 * KEYS: owner hash, epoch counter. ARGV: nodeId, instanceId, leaseMs, relayAddr, takeoverEpoch
 * ('0' for none).
 * Free, or held by the same instance (a republish), or held under exactly takeoverEpoch (an
 * owner proven dead): a new epoch and a fresh owner. The epoch is max(last + 1, Redis time in
 * MICROseconds): never reused, and higher than any epoch handed out before a Redis restart or
 * a failover that lost the counter's last writes (as long as the new server's clock is not
 * behind by more than the outage lasted); a counter runs ahead of the clock only with more
 * than one claim of one key per microsecond. Microseconds since 1970 stay exact in a double
 * (and in JSON, AMF0 and Lua numbers) until the year 2255. So the counter itself may expire a
 * day after its last claim: keys never published again cost nothing.
 * Returns {1, epoch} or {0, nodeId, instanceId, epoch, since, pttl, addr, media}.
 */
export const claimScript = script(
  'claim',
  2,
  `
local cur = redis.call('HMGET', KEYS[1], 'nodeId', 'instanceId', 'epoch', 'since', 'addr', 'media')
if cur[1] and cur[2] ~= ARGV[2] and cur[3] ~= ARGV[5] then
  return {0, cur[1], cur[2] or '', cur[3] or '0', cur[4] or '0', redis.call('PTTL', KEYS[1]), cur[5] or '', cur[6] or '{}'}
end
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local epoch
if nowUs > last then
  epoch = redis.call('INCRBY', KEYS[2], nowUs - last)
else
  epoch = redis.call('INCR', KEYS[2])
end
redis.call('PEXPIRE', KEYS[2], ${EPOCH_COUNTER_TTL_MS})
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'nodeId', ARGV[1], 'instanceId', ARGV[2], 'epoch', epoch,
  'since', math.floor(nowUs / 1000), 'addr', ARGV[4], 'media', '{}')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, epoch}
`,
);

/** KEYS: owner hash. ARGV: instanceId, epoch, leaseMs. Extends the lease while (instance, epoch) holds it. Returns 1 or 0. */
export const refreshScript = script(
  'refresh',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
);

/** KEYS: owner hash. ARGV: instanceId, epoch ('' = any epoch of this instance). Deletes the claim if it holds it. Returns 1 or 0. */
export const releaseScript = script(
  'release',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
if cur[1] ~= ARGV[1] or (ARGV[2] ~= '' and cur[2] ~= ARGV[2]) then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
`,
);

/** KEYS: owner hash. ARGV: instanceId, epoch, mediaJson. Stores media info only for the claim of (instance, epoch). Returns 1 or 0. */
export const setMediaScript = script(
  'setMedia',
  1,
  `
local cur = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'media', ARGV[3])
return 1
`,
);

/** KEYS: index zset. ARGV: member, ttlMs. Scores the member with its expiry by Redis's clock. */
export const indexTouchScript = script(
  'indexTouch',
  1,
  `
${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`,
);

/**
 * KEYS: index zset. ARGV: slackMs, limit. Prunes members expired for more than slackMs (their
 * keys are long gone), then returns Redis's clock in ms followed by the first `limit` members
 * not yet expired by it; the caller pages on from there with ZRANGEBYSCORE … LIMIT, scored
 * against that same clock reading.
 */
export const indexLiveScript = script(
  'indexLive',
  1,
  `
${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
table.insert(members, 1, tostring(now))
return members
`,
);

/**
 * KEYS: node record, presence hash. ARGV: instanceId. Deletes both if they are this instance's
 * (a restarted process with the same node id keeps its own). Returns 1 if the record was deleted.
 */
export const unregisterScript = script(
  'unregister',
  2,
  `
local deleted = 0
local rec = redis.call('GET', KEYS[1])
if rec then
  local ok, info = pcall(cjson.decode, rec)
  if ok and type(info) == 'table' and info.instanceId == ARGV[1] then
    redis.call('DEL', KEYS[1])
    deleted = 1
  end
end
if redis.call('HGET', KEYS[2], '#instance') == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return deleted
`,
);

/**
 * KEYS: presence hash. ARGV: instanceId, seq, full ('1'/'0'), ttlMs, then pairs of stream key
 * and JSON ('' deletes). A change (not full) applies only to this instance's record; when the
 * record is missing or another instance's, nothing is written and 0 tells the caller to write
 * it in full. Fields '#instance' and '#seq' cannot clash with stream keys (no '#' in keys).
 */
export const presenceScript = script(
  'presence',
  1,
  `
if ARGV[3] ~= '1' and redis.call('HGET', KEYS[1], '#instance') ~= ARGV[1] then
  return 0
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], '#instance', ARGV[1], '#seq', ARGV[2])
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`,
);

/** KEYS: presence hash. ARGV: instanceId, ttlMs. Keeps this instance's record alive. Returns 1 or 0 (gone: rewrite it). */
export const presenceTouchScript = script(
  'presenceTouch',
  1,
  `
if redis.call('HGET', KEYS[1], '#instance') ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`,
);
