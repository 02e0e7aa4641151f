import type { KeysMap } from 'bullmq';
import { LEASE_LOST_ERROR } from '../driver.js';

/*
 * What the redis driver does when a lease runs out (crash isolation, docs/reliability.md): our
 * own Lua scripts in place of BullMQ's stalled-job check, and the two job hash fields they keep
 * next to BullMQ's. A claim's reply is the job hash (moveToActive, or moveToFinished fetching
 * the next job), so the claim learns from these fields, at no cost of its own, whether the job
 * came back from a lost lease.
 */

/** "1" from the moment a lost lease puts the job back until a release: the claim isolates it. */
export const LOST_FIELD = 'jslost';
/** "1" once markAlone held: if this claim's lease runs out, the job is to blame. */
export const ALONE_FIELD = 'jsalone';

/** Fields a release sets, so that the next claim is an ordinary one. */
export const RELEASED_FIELDS = { [LOST_FIELD]: '0', [ALONE_FIELD]: '0' } as const;

/** Registered with ioredis `defineCommand` beside the other scripts (redis-scripts.ts). */
export const LEASE_SCRIPTS = {
  jobsmithRecover: {
    numberOfKeys: 7,
    lua: `--[[
  Hands out again every job whose lease ran out: an active job whose lock key is gone (its worker
  exited, was killed, hung or lost Redis) goes straight back to be claimed, in one pass, where
  BullMQ's moveStalledJobsToWait needs two (mark, then move) and keeps a stall count of its own.
  Runs at most once per ARGV[2] ms per queue, whichever process asks (the stalled-check key).

  Each job put back:
  - is marked lost (jslost), so that the claim that takes it reports isolate, and gets ARGV[3]
    as its failedReason (our last error), so that a job failed later for max attempts keeps it;
  - is charged the lost claim only if that claim was marked alone (jsalone, by markAlone): else
    its attemptsStarted (ats) goes back by one, and a job that merely ran beside the one that
    killed the worker loses nothing;
  - goes back at the head of its priority (the prioritized zset; the wait list for BullMQ
    priority 0), as jobsmithUnclaim does, and the marker is set so that blocked workers wake
    (unless BullMQ's meta says the queue is paused or at its concurrency, as BullMQ does).
  BullMQ's event stream gets no event: nothing of ours reads it.

  KEYS[1] active  KEYS[2] wait  KEYS[3] prioritized  KEYS[4] stalled  KEYS[5] marker
  KEYS[6] stalled-check  KEYS[7] meta
  ARGV[1] job key prefix  ARGV[2] least milliseconds between two checks  ARGV[3] lost error
  Returns the ids put back, or, when another check ran less than ARGV[2] ms ago, the
  milliseconds until the next may run (so that the caller asks again then, not later).
]]
if not redis.call('SET', KEYS[6], '1', 'PX', ARGV[2], 'NX') then
  return math.max(0, redis.call('PTTL', KEYS[6]))
end
local back = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local jobKey = ARGV[1] .. id
  if redis.call('EXISTS', jobKey .. ':lock') == 0 then
    redis.call('LREM', KEYS[1], 1, id)
    redis.call('SREM', KEYS[4], id)
    if redis.call('EXISTS', jobKey) == 1 then
      local f = redis.call('HMGET', jobKey, '${ALONE_FIELD}', 'ats', 'priority')
      if f[1] ~= '1' and (tonumber(f[2]) or 0) > 0 then
        redis.call('HINCRBY', jobKey, 'ats', -1)
      end
      redis.call('HSET', jobKey, '${LOST_FIELD}', '1', '${ALONE_FIELD}', '0',
        'failedReason', ARGV[3])
      local priority = tonumber(f[3]) or 0
      if priority > 0 then
        redis.call('ZADD', KEYS[3], priority * 0x100000000, id)
      else
        redis.call('RPUSH', KEYS[2], id)
      end
      table.insert(back, id)
    end
  end
end
if #back > 0 then
  local meta = redis.call('HMGET', KEYS[7], 'paused', 'concurrency')
  local maxed = meta[2] and redis.call('LLEN', KEYS[1]) >= tonumber(meta[2])
  if not meta[1] and not maxed then redis.call('ZADD', KEYS[5], 0, '0') end
end
return back`,
  },
  jobsmithMarkAlone: {
    numberOfKeys: 2,
    lua: `--[[
  Marks a held job as running alone in its worker: if this claim's lease runs out, the job is
  to blame and jobsmithRecover charges the attempt. Nothing happens unless the lock is ours.

  KEYS[1] lock key  KEYS[2] job key
  ARGV[1] token
  Returns 1 if marked.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], '${ALONE_FIELD}', '1')
return 1`,
  },
} as const;

/** jobsmithRecover's keys and arguments for a queue. */
export function recoverArgs(k: KeysMap, everyMs: number): string[] {
  return [
    k.active,
    k.wait,
    k.prioritized,
    k.stalled,
    k.marker,
    k['stalled-check'],
    k.meta,
    k[''],
    // PX takes a whole number of milliseconds, at least one.
    String(Math.max(1, Math.round(everyMs))),
    LEASE_LOST_ERROR,
  ];
}

/** jobsmithRecover's reply: when the next check of the queue may run, in ms from now. */
export function nextCheckIn(reply: unknown, everyMs: number): number {
  return typeof reply === 'number' ? reply : everyMs;
}

/** Whether a claimed job's hash says it came back from a lost lease. */
export function cameBackLost(hash: Record<string, string>): boolean {
  return hash[LOST_FIELD] === '1';
}
