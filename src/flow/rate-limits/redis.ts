import type { Redis } from 'ioredis';
import { gcraParams, orderRequests, usage, waitMs } from './gcra.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitRule,
  RateLimitStore,
  RateLimitTakeOptions,
  RateLimitUsage,
} from './store.js';

/*
 * Rate limits on Redis: one Lua script per decision, the clock Redis's own TIME (so every host
 * agrees), in microseconds. Keys live under the connection's prefix, beside the queues':
 *
 *   <prefix>:jobsmith:rl:<name>:k:<key>   hash {t: tat, b: backlog} of one key
 *   <prefix>:jobsmith:rl:<name>:busy      zset: keys not yet idle, scored by when they go idle
 *   <prefix>:jobsmith:rl:<name>:block     the whole limit's push-back, until (µs)
 *
 * Each expires (PEXPIRE) when its times have passed, so idle keys vanish by themselves. Limit
 * names hold no ":" (checked with the config), so no two limits share a key.
 *
 * Numbers are written with string.format('%.0f'): Redis turns a Lua number into text in a way
 * that may use an exponent for 16-digit values, and a microsecond time has 16 digits.
 */

/** Saves key i's times (tat[i], backlog[i]) and indexes it in its limit's busy set. */
const SAVE = `
local function fmt(x) return string.format('%.0f', x) end
local function save(hash, busy, member, tat, backlog, now)
  local last = math.max(tat, backlog)
  local ttl = math.ceil((last - now) / 1000) + 1
  redis.call('HSET', hash, 't', fmt(tat), 'b', fmt(backlog))
  redis.call('PEXPIRE', hash, ttl)
  redis.call('ZREMRANGEBYSCORE', busy, '-inf', fmt(now))
  redis.call('ZADD', busy, fmt(last), member)
  if redis.call('PTTL', busy) < ttl then redis.call('PEXPIRE', busy, ttl) end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

const SCRIPTS = {
  jobsmithRateLimitTake: {
    lua: `--[[
  Takes one token from each (limit, key), all or none (GCRA, src/flow/rate-limits/store.ts).
  Three keys and four arguments per request, in the order the caller sorted them:

  KEYS[3i-2] the key's hash  KEYS[3i-1] its limit's block  KEYS[3i] its limit's busy zset
  ARGV[4i-3] emission interval T (µs)  ARGV[4i-2] tolerance tau (µs)  ARGV[4i-1] grace (µs)
  ARGV[4i] the key itself; then ARGV[4n+1] "1" when the job is booked (RateLimitTakeOptions)
  Returns {1, wait} when let through: every key free now, or within the smallest grace (then
  booked for that moment: each tat moves on from it, and wait is how long to wait before
  going, µs); else {0, i, wait}: the 0-based index of the request that waits longest and that
  wait in µs; nothing is taken: the job comes back at the latest of its keys' next slots (when
  each frees, and for a job not booked, no earlier than its backlog); that request's key hands
  out the slot (backlog one T after it), and so does every key with a longer interval.
]]${SAVE}
local n = #KEYS / 3
local tat, backlog, free = {}, {}, {}
local at, grace = now, math.huge
for i = 1, n do
  local s = redis.call('HMGET', KEYS[3 * i - 2], 't', 'b')
  tat[i] = tonumber(s[1]) or 0
  backlog[i] = tonumber(s[2]) or 0
  local blocked = tonumber(redis.call('GET', KEYS[3 * i - 1])) or 0
  free[i] = math.max(tat[i] - tonumber(ARGV[4 * i - 2]), blocked)
  at = math.max(at, free[i])
  grace = math.min(grace, tonumber(ARGV[4 * i - 1]))
end
if at - now <= grace then
  for i = 1, n do
    tat[i] = math.max(tat[i], at) + tonumber(ARGV[4 * i - 3])
    save(KEYS[3 * i - 2], KEYS[3 * i], ARGV[4 * i], tat[i], backlog[i], now)
  end
  return {1, at - now}
end
-- Denied: back at the latest of the keys' next slots, a booked job's not held back by the
-- backlogs; that key hands the slot out, and so does every key with a longer interval
-- (gcra.ts, decide, says why).
local booked = ARGV[4 * n + 1] == '1'
local worst, moment = 1, now
for i = 1, n do
  local slot = math.max(now, free[i])
  if not booked then slot = math.max(slot, backlog[i]) end
  if slot > moment then worst, moment = i, slot end
end
local setter = tonumber(ARGV[4 * worst - 3])
for i = 1, n do
  local interval = tonumber(ARGV[4 * i - 3])
  if i == worst or interval > setter then
    backlog[i] = math.max(backlog[i], moment + interval)
    save(KEYS[3 * i - 2], KEYS[3 * i], ARGV[4 * i], tat[i], backlog[i], now)
  end
end
local wait = moment - now
return {0, worst - 1, wait}`,
  },
  jobsmithRateLimitBlockKey: {
    numberOfKeys: 2,
    lua: `--[[
  Pushes back one key of a limit: it lets no request through for ARGV[1] µs from now.

  KEYS[1] the key's hash  KEYS[2] its limit's busy zset
  ARGV[1] push-back (µs)  ARGV[2] tolerance tau (µs)  ARGV[3] the key itself
  Returns 1.
]]${SAVE}
local s = redis.call('HMGET', KEYS[1], 't', 'b')
local tat = math.max(tonumber(s[1]) or 0, now + tonumber(ARGV[1]) + tonumber(ARGV[2]))
save(KEYS[1], KEYS[2], ARGV[3], tat, tonumber(s[2]) or 0, now)
return 1`,
  },
  jobsmithRateLimitBlockAll: {
    numberOfKeys: 1,
    lua: `--[[
  Pushes back a whole limit: none of its keys lets a request through for ARGV[1] µs from now.
  A longer push-back already in force stays.

  KEYS[1] the limit's block
  ARGV[1] push-back (µs)
  Returns 1.
]]${SAVE}
local untilUs = math.max(tonumber(redis.call('GET', KEYS[1])) or 0, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], fmt(untilUs), 'PX', math.ceil((untilUs - now) / 1000) + 1)
return 1`,
  },
  jobsmithRateLimitList: {
    numberOfKeys: 2,
    lua: `--[[
  A limit's busiest keys for limits:list: those not yet idle, the one idle last first.

  KEYS[1] the limit's busy zset  KEYS[2] the limit's block
  ARGV[1] prefix of its keys' hashes ("<prefix>:jobsmith:rl:<name>:k:")  ARGV[2] how many
  Returns {now, blocked until (or 0), key1, tat1, backlog1, key2, ...}, times in µs as text.
]]${SAVE}
local out = {fmt(now), redis.call('GET', KEYS[2]) or '0'}
local keys = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. fmt(now), 'LIMIT', 0, ARGV[2])
for _, key in ipairs(keys) do
  local s = redis.call('HMGET', ARGV[1] .. key, 't', 'b')
  table.insert(out, key); table.insert(out, s[1] or '0'); table.insert(out, s[2] or '0')
end
return out`,
  },
  jobsmithRateLimitReset: {
    numberOfKeys: 2,
    lua: `--[[
  Forgets a limit's state: one key (ARGV[2] given), or every key and the push-back.

  KEYS[1] the limit's busy zset  KEYS[2] the limit's block
  ARGV[1] prefix of its keys' hashes  ARGV[2] "1" to forget one key, "0" for all
  ARGV[3] the key (when ARGV[2] is "1")
  Returns how many Redis keys it deleted: 0 when there was no state to forget.
]]
if ARGV[2] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[3])
  return redis.call('DEL', ARGV[1] .. ARGV[3])
end
local n = 0
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', ARGV[1] .. key)
end
return n + redis.call('DEL', KEYS[1], KEYS[2])`,
  },
} as const;

type Reply = Array<string | number>;
type ScriptClient = {
  [K in keyof typeof SCRIPTS]: (...args: Array<string | number>) => Promise<Reply | number>;
};

export class RedisRateLimitStore implements RateLimitStore {
  private readonly scripts: ScriptClient;

  constructor(
    client: Redis,
    private readonly prefix: string,
  ) {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      // The take's key count varies with its requests: ioredis then takes it as the first arg.
      if (!(name in client)) client.defineCommand(name, script);
    }
    this.scripts = client as unknown as ScriptClient;
  }

  private base(name: string): string {
    return `${this.prefix}:jobsmith:rl:${name}:`;
  }

  async take(
    requests: readonly RateLimitRequest[],
    options: RateLimitTakeOptions = {},
  ): Promise<RateLimitDecision> {
    const ordered = orderRequests(requests);
    if (ordered.length === 0) return { allowed: true, waitMs: 0 };
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const { rule, key } of ordered) {
      const base = this.base(rule.name);
      keys.push(`${base}k:${key}`, `${base}block`, `${base}busy`);
      const { intervalUs, toleranceUs, graceUs } = gcraParams(rule);
      args.push(intervalUs, toleranceUs, graceUs, key);
    }
    args.push(options.booked ? '1' : '0');
    const reply = (await this.scripts.jobsmithRateLimitTake(
      keys.length,
      ...keys,
      ...args,
    )) as Reply;
    if (Number(reply[0]) === 1) return { allowed: true, waitMs: waitMs(Number(reply[1])) };
    const { rule, key } = ordered[Number(reply[1])]!;
    return { allowed: false, retryAfterMs: waitMs(Number(reply[2])), limit: rule.name, key };
  }

  async block(rule: RateLimitRule, key: string | undefined, ms: number): Promise<void> {
    const base = this.base(rule.name);
    const pushUs = Math.ceil(ms * 1000);
    if (key === undefined) {
      await this.scripts.jobsmithRateLimitBlockAll(`${base}block`, pushUs);
      return;
    }
    const { toleranceUs } = gcraParams(rule);
    await this.scripts.jobsmithRateLimitBlockKey(
      `${base}k:${key}`,
      `${base}busy`,
      pushUs,
      toleranceUs,
      key,
    );
  }

  async list(rule: RateLimitRule, top: number): Promise<RateLimitUsage> {
    const base = this.base(rule.name);
    const reply = (await this.scripts.jobsmithRateLimitList(
      `${base}busy`,
      `${base}block`,
      `${base}k:`,
      top,
    )) as string[];
    const rows = [];
    for (let i = 2; i < reply.length; i += 3) {
      rows.push({ key: reply[i]!, tat: reply[i + 1]!, backlog: reply[i + 2]! });
    }
    return usage(Number(reply[0]), gcraParams(rule).toleranceUs, Number(reply[1]), rows);
  }

  async reset(name: string, key?: string): Promise<boolean> {
    const base = this.base(name);
    const deleted = await this.scripts.jobsmithRateLimitReset(
      `${base}busy`,
      `${base}block`,
      `${base}k:`,
      key === undefined ? '0' : '1',
      key ?? '',
    );
    return Number(deleted) > 0;
  }
}
