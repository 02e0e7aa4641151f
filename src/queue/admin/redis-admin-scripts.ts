/*
 * Lua scripts of the live-job operations on Redis (redis-admin.ts), registered with the
 * driver's other scripts (src/queue/redis/redis-scripts.ts). Each reads BullMQ's keys of one
 * queue and tells a held job (in the active list, its lock alive) from a waiting one.
 */
export const ADMIN_SCRIPTS = {
  jobsmithFind: {
    numberOfKeys: 5,
    lua: `--[[
  Where a live job is: its state as the driver contract names it, and the time that goes with
  it (due time, or when its lease ends). A job whose hash is left in no list (completed, failed)
  is not live.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  ARGV[1] job key prefix  ARGV[2] job id  ARGV[3] now (ms, the driver's Redis clock)
  Returns {state, at} (at: '' when it goes without), or false when the job is not live.
]]
local prefix, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', prefix .. id) == 0 then return false end
local score = redis.call('ZSCORE', KEYS[4], id)
if score then
  local at = math.floor(tonumber(score) / 0x1000)
  if at <= now then return {'pending', tostring(at)} end
  return {'delayed', tostring(at)}
end
if redis.call('ZSCORE', KEYS[3], id) or redis.call('LPOS', KEYS[1], id)
  or redis.call('LPOS', KEYS[2], id) then
  return {'pending', ''}
end
if redis.call('LPOS', KEYS[5], id) then
  local ttl = redis.call('PTTL', prefix .. id .. ':lock')
  if ttl > 0 then return {'reserved', tostring(now + ttl)} end
  return {'pending', ''}
end
return false`,
  },
  jobsmithRemove: {
    numberOfKeys: 6,
    lua: `--[[
  Deletes one waiting job (waiting, prioritized, delayed, or active with its lock expired) and
  frees its deduplication key, as jobsmithClear does for a whole queue. A held job is left to
  its worker.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  KEYS[6] stalled
  ARGV[1] job key prefix  ARGV[2] job id
  Returns 1 if the job was deleted, 0 if it is held or not live.
]]
local prefix, id = ARGV[1], ARGV[2]
local jobKey = prefix .. id
if redis.call('EXISTS', jobKey) == 0 then return 0 end
local found = redis.call('LREM', KEYS[1], 0, id) + redis.call('LREM', KEYS[2], 0, id)
  + redis.call('ZREM', KEYS[3], id) + redis.call('ZREM', KEYS[4], id)
if found == 0 then
  if redis.call('EXISTS', jobKey .. ':lock') == 1 then return 0 end
  if redis.call('LREM', KEYS[5], 0, id) == 0 then return 0 end
  redis.call('SREM', KEYS[6], id)
end
local deid = redis.call('HGET', jobKey, 'deid')
if deid and redis.call('GET', prefix .. 'de:' .. deid) == id then
  redis.call('DEL', prefix .. 'de:' .. deid)
end
redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':lock', jobKey .. ':dependencies',
  jobKey .. ':processed', jobKey .. ':failed', jobKey .. ':unsuccessful')
return 1`,
  },
  jobsmithReadyNow: {
    numberOfKeys: 2,
    lua: `--[[
  Notes when a delayed job joins the ready line (queue:promote), in the MULTI that runs BullMQ's
  promote right after it: a claim reads when the job could run from this field (READY_FIELD,
  redis-jobs.ts), and promote itself only zeroes the job's delay, which made the job look ready
  since its dispatch.

  KEYS[1] delayed  KEYS[2] job key
  ARGV[1] job id  ARGV[2] field  ARGV[3] now (ms, the driver's Redis clock)
  Returns 1 if the job is delayed (and the field was set), else 0.
]]
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`,
  },
  jobsmithProgress: {
    numberOfKeys: 2,
    lua: `--[[
  Stores a held job's progress (ctx.progress) in BullMQ's own progress field, if the lock is
  still this claim's (fenced).

  KEYS[1] lock key  KEYS[2] job key
  ARGV[1] token  ARGV[2] progress (JSON text)
  Returns 1 if stored.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'progress', ARGV[2])
return 1`,
  },
} as const;
