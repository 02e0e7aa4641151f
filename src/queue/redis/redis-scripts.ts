import type { KeysMap } from 'bullmq';
import { MAX_PRIORITY } from '../../jobs/limits.js';
import { FAIL_SCRIPTS } from './fail-scripts.js';
import { LEASE_SCRIPTS } from './lease-scripts.js';
import { ADMIN_SCRIPTS } from '../admin/redis-admin-scripts.js';

/*
 * How the redis driver talks to Redis: the arguments of the BullMQ Lua scripts it calls (each
 * builder names the script; the KEYS/ARGV contract is the header of that script in
 * node_modules/bullmq/dist/esm/commands/), and the few scripts of our own, each with its
 * contract header. Ours read or remove jobs in BullMQ's own key layout, and give back jobs
 * whose lease ran out (lease-scripts.ts); every other state change a worker makes (claim,
 * renew, complete, retry, fail) goes through BullMQ's scripts.
 *
 * Times passed to BullMQ are epoch milliseconds from the Redis clock (RedisClock); our scripts
 * read TIME themselves.
 */

/**
 * BullMQ runs priority 1 first and 2^21 - 1 last, and runs jobs without a priority (0) before
 * every prioritized one. Ours is "higher runs first", ±MAX_PRIORITY (2^20 - 1, the core limit
 * of every backend), default 0. Every job gets a BullMQ priority, ZERO - ours, so that both
 * orders agree; our 0 sits in the middle.
 */
export const PRIORITY_ZERO = MAX_PRIORITY + 1;
export const toBullPriority = (priority: number) => PRIORITY_ZERO - priority;
export const fromBullPriority = (bull: number) => (bull > 0 ? PRIORITY_ZERO - bull : 0);

type Arg = string | number | Buffer;

/** `moveToActive`: takes the next job of a queue (promoting due delayed jobs first) and locks it. */
export function moveToActiveArgs(k: KeysMap, now: number, token: string, leaseMs: number): Arg[] {
  return [
    k.wait,
    k.active,
    k.prioritized,
    k.events,
    k.stalled,
    k.limiter,
    k.delayed,
    k.paused,
    k.meta,
    k.pc,
    k.marker,
    k[''],
    now,
    pack({ token, lockDuration: leaseMs }),
  ];
}

export interface FinishOptions {
  target: 'completed' | 'failed';
  /** The failed reason (failed) or nothing (completed). */
  value: string;
  token: string;
  /** Also lock and return the next job of the queue (saves a round trip), with this lease. */
  fetchNextMs?: number;
  maxTries: number;
}

/**
 * `moveToFinished`: checks the lock, finishes the job and, with `keepJobs: { count: 0 }`,
 * deletes it at once, so BullMQ's completed and failed sets never grow.
 */
export function moveToFinishedArgs(
  k: KeysMap,
  bullId: string,
  now: number,
  o: FinishOptions,
): Arg[] {
  return [
    k.wait,
    k.active,
    k.prioritized,
    k.events,
    k.stalled,
    k.limiter,
    k.delayed,
    k.paused,
    k.meta,
    k.pc,
    k[o.target],
    k[''] + bullId,
    `${k['']}metrics:${o.target}`,
    k.marker,
    bullId,
    now,
    o.target === 'completed' ? 'returnvalue' : 'failedReason',
    o.value,
    o.target,
    o.fetchNextMs ? 1 : 0,
    k[''],
    finishOpts(o.token, o.fetchNextMs ?? 0, o.maxTries),
  ];
}

/**
 * moveToFinished's packed options. A job fetched with a completion keeps the lock token of the
 * job before it, so a worker slot completes job after job with the same options: they are
 * packed once per token, not once per job.
 */
function finishOpts(token: string, lockDuration: number, attempts: number): Buffer {
  const hit = finishOptsCache.get(token);
  if (hit && hit.lockDuration === lockDuration && hit.attempts === attempts) return hit.packed;
  const packed = pack({
    token,
    keepJobs: { count: 0 },
    lockDuration,
    attempts,
    maxMetricsSize: '',
    fpof: false,
    cpof: false,
    idof: false,
    rdof: false,
  });
  if (finishOptsCache.size >= FINISH_OPTS_KEPT) finishOptsCache.clear();
  finishOptsCache.set(token, { lockDuration, attempts, packed });
  return packed;
}

/** More than a worker's concurrency, usually; past it, the cache starts over. */
const FINISH_OPTS_KEPT = 1024;
const finishOptsCache = new Map<
  string,
  { lockDuration: number; attempts: number; packed: Buffer }
>();

/**
 * `moveToDelayed`: checks the lock and puts a held job back to wait `delayMs`. `skipAttempt`
 * leaves BullMQ's attemptsMade alone; `fields` are set on the job hash in the same script.
 */
export function moveToDelayedArgs(
  k: KeysMap,
  bullId: string,
  now: number,
  token: string,
  delayMs: number,
  skipAttempt: boolean,
  fields: Record<string, string | number>,
): Arg[] {
  const flat = Object.entries(fields).flat();
  return [
    k.marker,
    k.active,
    k.prioritized,
    k.delayed,
    k[''] + bullId,
    k.events,
    k.meta,
    k.stalled,
    k.wait,
    k.limiter,
    k.pc,
    k[''],
    now,
    bullId,
    token,
    delayMs,
    skipAttempt ? '1' : '0',
    flat.length > 0 ? pack(flat) : '',
    0,
  ];
}

/** `extendLocks`: renews the locks whose token still matches; returns the ids that did not. */
export function extendLocksArgs(
  k: KeysMap,
  ids: string[],
  tokens: string[],
  leaseMs: number,
): Arg[] {
  return [k.stalled, k[''], pack(tokens), pack(ids), leaseMs];
}

/** Our own scripts, registered with ioredis `defineCommand` under these names. */
export const SCRIPTS = {
  ...LEASE_SCRIPTS,
  ...FAIL_SCRIPTS,
  ...ADMIN_SCRIPTS,
  jobsmithSizes: {
    numberOfKeys: 5,
    lua: `--[[
  Counts a queue's jobs the way the driver contract does. A job in BullMQ's active list whose
  lock expired is pending (it can be claimed again); a delayed job whose time has come is pending.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  ARGV[1] job key prefix ("<prefix>:<queue>:")  ARGV[2] now (ms, the driver's Redis clock)
  Returns {pending, delayed, reserved}
]]
local now = tonumber(ARGV[2])
local due = redis.call('ZCOUNT', KEYS[4], 0, (now + 1) * 0x1000 - 1)
local pending = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
  + redis.call('ZCARD', KEYS[3]) + due
local delayed = redis.call('ZCARD', KEYS[4]) - due
local reserved = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. id .. ':lock') == 1 then
    reserved = reserved + 1
  else
    pending = pending + 1
  end
end
return {pending, delayed, reserved}`,
  },
  jobsmithScan: {
    numberOfKeys: 5,
    lua: `--[[
  Lists a queue's jobs for queue:list: id, BullMQ priority, state and the time that goes with
  the state (due time, or when the lease ends), filtered by state. The caller sorts by priority
  (a stable sort) and pages.

  Within a priority the jobs come in the order they run, as moveToActive takes them: the held
  ones first (claimed longest ago first), then the wait lists (they pop from the right), the
  prioritized set by score (its counter: when each job joined the ready line, so a promoted or
  re-queued job goes behind those ready before it), then the delayed set by due time (due ones
  join the ready line at the next claim, behind the prioritized ones).

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  ARGV[1] job key prefix  ARGV[2] state wanted: "" (all), pending, delayed or reserved
  ARGV[3] now (ms, the driver's Redis clock)
  Returns {now, id1, priority1, state1, at1, id2, ...}
]]
local now = tonumber(ARGV[3])
local want = ARGV[2]
local out = {now}
local function add(id, state, at)
  if want == '' or want == state then
    local p = redis.call('HGET', ARGV[1] .. id, 'priority') or '0'
    table.insert(out, id); table.insert(out, p); table.insert(out, state); table.insert(out, at)
  end
end
local active = redis.call('LRANGE', KEYS[5], 0, -1)
for i = #active, 1, -1 do
  local id = active[i]
  local ttl = redis.call('PTTL', ARGV[1] .. id .. ':lock')
  if ttl > 0 then add(id, 'reserved', tostring(now + ttl)) else add(id, 'pending', '') end
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local ids = redis.call('LRANGE', key, 0, -1)
  for i = #ids, 1, -1 do add(ids[i], 'pending', '') end
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do add(id, 'pending', '') end
local delayed = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
for i = 1, #delayed, 2 do
  local at = math.floor(tonumber(delayed[i + 1]) / 0x1000)
  add(delayed[i], at <= now and 'pending' or 'delayed', tostring(at))
end
return out`,
  },
  jobsmithClear: {
    numberOfKeys: 6,
    lua: `--[[
  Deletes every job of a queue that no worker holds: waiting, prioritized, delayed, and active
  ones whose lock expired; frees their deduplication keys. Held jobs are left to their worker.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] active
  KEYS[6] stalled
  ARGV[1] job key prefix
  Returns the number of jobs deleted.
]]
local prefix = ARGV[1]
local count = 0
local function drop(id)
  local jobKey = prefix .. id
  local deid = redis.call('HGET', jobKey, 'deid')
  if deid and redis.call('GET', prefix .. 'de:' .. deid) == id then
    redis.call('DEL', prefix .. 'de:' .. deid)
  end
  redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':lock', jobKey .. ':dependencies',
    jobKey .. ':processed', jobKey .. ':failed', jobKey .. ':unsuccessful')
  count = count + 1
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  for _, id in ipairs(redis.call('LRANGE', key, 0, -1)) do drop(id) end
  redis.call('DEL', key)
end
for _, key in ipairs({KEYS[3], KEYS[4]}) do
  for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do drop(id) end
  redis.call('DEL', key)
end
for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  if redis.call('EXISTS', prefix .. id .. ':lock') == 0 then
    redis.call('LREM', KEYS[5], 0, id)
    redis.call('SREM', KEYS[6], id)
    drop(id)
  end
end
return count`,
  },
  jobsmithFreeUnique: {
    numberOfKeys: 2,
    lua: `--[[
  Frees a job's deduplication key once the job is gone. BullMQ keeps a key that has a TTL until
  the TTL ends, even after its job finished; ours holds only while the job exists. Runs in the
  same MULTI right after BullMQ's moveToFinished, so it sees whether that removed the job.

  KEYS[1] deduplication key  KEYS[2] job key
  ARGV[1] job id
  Returns 1 if the key was freed.
]]
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
  },
  jobsmithUnclaim: {
    numberOfKeys: 7,
    lua: `--[[
  Gives back a job that was claimed ahead of need (fetched with a completion) and never handed
  to the worker: unlocks it, puts it back at the head of its priority and takes back the
  attempt that moveToActive counted. Nothing happens unless the lock is still ours.

  KEYS[1] active  KEYS[2] prioritized  KEYS[3] wait  KEYS[4] stalled  KEYS[5] marker
  KEYS[6] job key  KEYS[7] lock key
  ARGV[1] token  ARGV[2] job id
  Returns 1 if the job was given back.
]]
if redis.call('GET', KEYS[7]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[7])
redis.call('SREM', KEYS[4], ARGV[2])
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then return 0 end
local priority = tonumber(redis.call('HGET', KEYS[6], 'priority')) or 0
if priority > 0 then
  redis.call('ZADD', KEYS[2], priority * 0x100000000, ARGV[2])
else
  redis.call('RPUSH', KEYS[3], ARGV[2])
end
redis.call('HINCRBY', KEYS[6], 'ats', -1)
redis.call('ZADD', KEYS[5], 0, '0')
return 1`,
  },
} as const;

/** A job hash (HGETALL's flat reply) as a record. */
export function hashOf(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/**
 * A minimal MessagePack encoder for the option maps BullMQ's scripts unpack with cmsgpack:
 * strings, integers, booleans, nil, arrays and maps. (BullMQ's own encoder is not exported.)
 * It writes into one scratch buffer and copies the result out once: a claim or a completion
 * packs a map per job, so small allocations here show up in the worker's throughput.
 */
export function pack(value: unknown): Buffer {
  at = 0;
  write(value);
  return Buffer.from(scratch.subarray(0, at));
}

let scratch = Buffer.allocUnsafe(4096);
let at = 0;

function room(n: number): void {
  if (at + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + n));
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

function head(small: number, tag: number, n: number, limit: number): void {
  room(5);
  if (n < limit) scratch[at++] = small | n;
  else {
    scratch[at] = tag;
    scratch.writeUInt32BE(n, at + 1);
    at += 5;
  }
}

function write(v: unknown): void {
  if (v === null || v === undefined) {
    room(1);
    scratch[at++] = 0xc0;
  } else if (typeof v === 'boolean') {
    room(1);
    scratch[at++] = v ? 0xc3 : 0xc2;
  } else if (typeof v === 'number') {
    room(9);
    if (Number.isInteger(v) && v >= 0 && v < 128) scratch[at++] = v;
    else if (Number.isInteger(v) && Math.abs(v) < 2 ** 31) {
      scratch[at] = 0xd2;
      scratch.writeInt32BE(v, at + 1);
      at += 5;
    } else {
      scratch[at] = 0xcb;
      scratch.writeDoubleBE(v, at + 1);
      at += 9;
    }
  } else if (typeof v === 'string') {
    const n = Buffer.byteLength(v);
    room(5 + n);
    // fixstr below 32 bytes, else str32 (cmsgpack reads both).
    head(0xa0, 0xdb, n, 32);
    at += scratch.write(v, at, 'utf8');
  } else if (Array.isArray(v)) {
    head(0x90, 0xdd, v.length, 16);
    for (const x of v) write(x);
  } else {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    head(0x80, 0xdf, entries.length, 16);
    for (const [key, x] of entries) {
      write(key);
      write(x);
    }
  }
}
