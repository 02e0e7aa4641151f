import type { BullRedis } from '../queue/redis/bull-redis.js';
import type { CancelRequest, CancelResult, JobRow } from '../queue/driver.js';
import { maxTriesOf, parseId, tagsOf } from '../queue/redis/redis-jobs.js';
import { fromBullPriority } from '../queue/redis/redis-scripts.js';

/*
 * QueueDriver.cancel, cancelRequests and forgetCancels on Redis (RedisQueue delegates here).
 * A request is a key beside the job's hash (`<prefix>:<queue>:<id>:cancel`, the reason as its
 * value) with a TTL, so one whose job ended some other way goes by itself. Cancelling is an
 * operator's command: one script call per job is fine.
 */

/** How long a cancel request outlives a worker that never looked at it, ms (7 days). */
const REQUEST_TTL_MS = 7 * 24 * 3600 * 1000;

const CANCEL = `--[[
  Cancels one job: a waiting one (wait, paused, prioritized, delayed, or active with its lock
  expired) is deleted with its deduplication key; a held one (active, locked) gets a cancel
  request key.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  KEYS[6] stalled  KEYS[7] job key  KEYS[8] cancel request key
  ARGV[1] BullMQ job id  ARGV[2] reason  ARGV[3] request TTL ms  ARGV[4] job key prefix
  Returns {0} unknown; {2} requested; {1, name, data, opts, timestamp, ats, failedReason,
  priority, due} removed (due: the delayed score's time, or "").
]]
local id = ARGV[1]
local jobKey = KEYS[7]
if redis.call('EXISTS', jobKey) == 0 then return {0} end
local active = redis.call('LPOS', KEYS[5], id)
if active and redis.call('EXISTS', jobKey .. ':lock') == 1 then
  redis.call('SET', KEYS[8], ARGV[2], 'PX', ARGV[3])
  return {2}
end
local due = ''
local found = active
if redis.call('LREM', KEYS[1], 0, id) > 0 then found = true end
if redis.call('LREM', KEYS[2], 0, id) > 0 then found = true end
if redis.call('ZREM', KEYS[3], id) > 0 then found = true end
local score = redis.call('ZSCORE', KEYS[4], id)
if score then
  due = tostring(math.floor(tonumber(score) / 0x1000))
  redis.call('ZREM', KEYS[4], id)
  found = true
end
-- In no waiting list and not held: finished (kept by BullMQ) or being moved: not ours to cancel.
if not found then return {0} end
if active then
  redis.call('LREM', KEYS[5], 0, id)
  redis.call('SREM', KEYS[6], id)
end
local f = redis.call('HMGET', jobKey, 'name', 'data', 'opts', 'timestamp', 'ats', 'failedReason',
  'priority', 'deid')
local deid = f[8]
if deid and redis.call('GET', ARGV[4] .. 'de:' .. deid) == id then
  redis.call('DEL', ARGV[4] .. 'de:' .. deid)
end
redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':lock', jobKey .. ':dependencies',
  jobKey .. ':processed', jobKey .. ':failed', jobKey .. ':unsuccessful', KEYS[8])
return {1, f[1] or '', f[2] or '', f[3] or '', f[4] or '', f[5] or '0', f[6] or '', f[7] or '0', due}`;

interface Ref {
  id: string;
  queue: string;
  bullId: string;
  /** The job's hash key. */
  jobKey: string;
}

/** The job an id names, or undefined when it cannot name one (no queue part, a bad queue name). */
function refOf(redis: BullRedis, id: string): Ref | undefined {
  const ref = parseId(id);
  if (!ref || !/^[0-9]+$/.test(ref.bullId)) return undefined;
  try {
    return { id, ...ref, jobKey: redis.keysOf(ref.queue)[''] + ref.bullId };
  } catch {
    return undefined; // a queue name this storage cannot hold: no job has it
  }
}

const requestKey = (ref: Ref) => `${ref.jobKey}:cancel`;

export async function redisCancel(
  redis: BullRedis,
  ids: string[],
  reason: string,
): Promise<CancelResult> {
  const removed: JobRow[] = [];
  const requested: string[] = [];
  const now = redis.clock.now();
  for (const id of new Set(ids)) {
    const ref = refOf(redis, id);
    if (!ref) continue;
    const k = redis.keysOf(ref.queue);
    const keys = [...redis.stateKeys(ref.queue), k.stalled, ref.jobKey, requestKey(ref)];
    const args = [ref.bullId, reason, REQUEST_TTL_MS, k['']];
    const reply = (await redis.up().eval(CANCEL, keys.length, ...keys, ...args)) as unknown[];
    const code = Number(reply[0]);
    if (code === 2) requested.push(id);
    if (code !== 1) continue;
    const [name, data, opts, timestamp, ats, failedReason, priority, due] = reply
      .slice(1)
      .map(String);
    const createdAt = Number(timestamp) || now;
    const availableAt = due ? Number(due) : createdAt;
    removed.push({
      id,
      name: name!,
      queue: ref.queue,
      state: availableAt > now ? 'delayed' : 'pending',
      priority: fromBullPriority(Number(priority)),
      attempts: Number(ats) || 0,
      maxTries: maxTriesOf(opts),
      availableAt,
      createdAt,
      lastError: failedReason || null,
      payload: data!,
      tags: tagsOf(opts) ?? [],
      // The cancel script does not return progress; a waiting job's is rarely set.
      progress: null,
    });
  }
  return { removed, requested };
}

export async function redisCancelRequests(
  redis: BullRedis,
  ids: string[],
): Promise<CancelRequest[]> {
  const refs = ids.flatMap((id) => refOf(redis, id) ?? []);
  if (refs.length === 0) return [];
  const values = await redis.up().mget(...refs.map(requestKey));
  return refs.flatMap((ref, i) => {
    const reason = values[i];
    return reason == null ? [] : [{ id: ref.id, reason }];
  });
}

export async function redisForgetCancels(redis: BullRedis, ids: string[]): Promise<void> {
  const refs = ids.flatMap((id) => refOf(redis, id) ?? []);
  if (refs.length > 0) await redis.up().del(...refs.map(requestKey));
}
