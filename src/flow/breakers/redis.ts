/*
 * Breakers on Redis: one hash per breaker and a set of their names, each decision one Lua
 * script timed by the server's clock (TIME), so every worker on every host decides against the
 * same state and the same time. The scripts make the decisions of machine.ts.
 *
 * Keys: `<prefix>:#breaker:<name>` (hash: state, failures, wstart, wms, opened, until, probe,
 * updated) and `<prefix>:#breakers` (set of names). No queue name can start with `#`, so they
 * never meet a queue's keys (`<prefix>:<queue>:...`).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { statusOf, type BreakerRow } from './machine.js';
import type { BreakerSettings } from './settings.js';
import {
  HALF_OPEN_WAIT_MS,
  type Admission,
  type BreakerOutcome,
  type BreakerState,
  type BreakerStore,
  type BreakerTransition,
} from './store.js';

const CLOCK = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const SCRIPTS = {
  jobsmithBreakerAdmit: {
    numberOfKeys: 2,
    lua: `--[[
  Whether a job of the breaker may run now; after the cooldown (open) or the probe's lease
  (half-open), the caller becomes the probe and holds the breaker until now + ARGV[3].

  KEYS[1] breaker hash  KEYS[2] set of breaker names
  ARGV[1] name  ARGV[2] probe token  ARGV[3] probe lease ms  ARGV[4] half-open wait ms
  Returns {1} run; {2} run as the probe (holding ARGV[2]); {0, wait ms, state} wait.
]]
${CLOCK}
local f = redis.call('HMGET', KEYS[1], 'state', 'until')
if not f[1] or f[1] == 'closed' then return {1} end
local untilAt = tonumber(f[2]) or 0
if now < untilAt then
  if f[1] == 'open' then return {0, untilAt - now, 'open'} end
  return {0, math.min(untilAt - now, tonumber(ARGV[4])), 'half-open'}
end
redis.call('HSET', KEYS[1], 'state', 'half-open', 'until', now + tonumber(ARGV[3]),
  'probe', ARGV[2], 'updated', now)
redis.call('SADD', KEYS[2], ARGV[1])
return {2}`,
  },
  jobsmithBreakerRecord: {
    numberOfKeys: 2,
    lua: `--[[
  Records an admitted job's outcome. With a probe token (ARGV[3] not empty): only the probe
  holding the half-open breaker decides: success closes it, failure re-opens it for ARGV[6] ms,
  neutral ends its lease now (the next job probes). Without: a failure counts in a closed
  breaker's fixed window (ARGV[5] ms, from its first failure) and opens it at ARGV[4].

  KEYS[1] breaker hash  KEYS[2] set of breaker names
  ARGV[1] name  ARGV[2] outcome: success | failure | neutral  ARGV[3] probe token or ''
  ARGV[4] failures that open it  ARGV[5] window ms  ARGV[6] cooldown ms
  Returns {0} nothing changed state; {1} closed; {2, failures, until, reopened 0|1} opened.
]]
${CLOCK}
local f = redis.call('HMGET', KEYS[1], 'state', 'failures', 'wstart', 'probe')
local state = f[1] or 'closed'
if ARGV[3] ~= '' then
  if state ~= 'half-open' or f[4] ~= ARGV[3] then return {0} end
  if ARGV[2] == 'success' then
    redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'updated', now)
    redis.call('HDEL', KEYS[1], 'wstart', 'wms', 'opened', 'until', 'probe')
    return {1}
  end
  if ARGV[2] == 'neutral' then
    redis.call('HSET', KEYS[1], 'until', now, 'updated', now)
    redis.call('HDEL', KEYS[1], 'probe')
    return {0}
  end
  local untilAt = now + tonumber(ARGV[6])
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened', now, 'until', untilAt, 'updated', now)
  redis.call('HDEL', KEYS[1], 'probe')
  return {2, tonumber(f[2]) or 0, untilAt, 1}
end
if ARGV[2] ~= 'failure' or state ~= 'closed' then return {0} end
local window = tonumber(ARGV[5])
local wstart = tonumber(f[3])
local failures = 1
if wstart and wstart + window > now then
  failures = (tonumber(f[2]) or 0) + 1
else
  wstart = now
end
redis.call('HSET', KEYS[1], 'failures', failures, 'wstart', wstart, 'wms', window, 'updated', now)
redis.call('SADD', KEYS[2], ARGV[1])
if failures < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'state', 'closed')
  return {0}
end
local untilAt = now + tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'state', 'open', 'opened', now, 'until', untilAt)
return {2, failures, untilAt, 0}`,
  },
} as const;

type Scripted = {
  [K in keyof typeof SCRIPTS]: (...args: Array<string | number>) => Promise<unknown>;
};

export class RedisBreakerStore implements BreakerStore {
  private readonly names: string;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {
    this.names = `${prefix}:#breakers`;
  }

  private key(name: string): string {
    return `${this.prefix}:#breaker:${name}`;
  }

  /** The client with our scripts (ioredis sends EVALSHA, and the script once if unknown). */
  private scripted(): Redis & Scripted {
    const client = this.client as Redis & Partial<Scripted>;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (!(name in client)) client.defineCommand(name, script);
    }
    return client as Redis & Scripted;
  }

  async admit(s: BreakerSettings): Promise<Admission> {
    const token = randomUUID();
    const reply = (await this.scripted().jobsmithBreakerAdmit(
      this.key(s.name),
      this.names,
      s.name,
      token,
      s.probeLeaseMs,
      HALF_OPEN_WAIT_MS,
    )) as [number, number?, string?];
    if (reply[0] === 1) return { run: true };
    if (reply[0] === 2) return { run: true, probe: token };
    return { run: false, retryAfterMs: Number(reply[1]), state: reply[2] as 'open' | 'half-open' };
  }

  async record(
    s: BreakerSettings,
    outcome: BreakerOutcome,
    probe?: string,
  ): Promise<BreakerTransition | undefined> {
    if (outcome !== 'failure' && probe === undefined) return undefined;
    const reply = (await this.scripted().jobsmithBreakerRecord(
      this.key(s.name),
      this.names,
      s.name,
      outcome,
      probe ?? '',
      s.failures,
      s.windowMs,
      s.cooldownMs,
    )) as number[];
    if (reply[0] === 1) return { to: 'closed' };
    if (reply[0] === 2)
      return { to: 'open', failures: reply[1]!, until: reply[2]!, reopened: reply[3] === 1 };
    return undefined;
  }

  async list() {
    const names = ((await this.client.smembers(this.names)) as string[]).sort();
    if (names.length === 0) return [];
    const pipeline = this.client.pipeline();
    pipeline.time();
    for (const name of names) pipeline.hgetall(this.key(name));
    const replies = (await pipeline.exec()) ?? [];
    const [sec, usec] = replies[0]![1] as [string, string];
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const rows: BreakerRow[] = [];
    names.forEach((name, i) => {
      const h = replies[i + 1]![1] as Record<string, string>;
      if (!h.state) return;
      const n = (v: string | undefined) => (v === undefined ? null : Number(v));
      rows.push({
        name,
        state: h.state as BreakerState,
        failures: Number(h.failures ?? 0),
        windowStartedAt: n(h.wstart),
        windowMs: n(h.wms),
        openedAt: n(h.opened),
        until: n(h.until),
        probeToken: h.probe ?? null,
      });
    });
    return rows.map((r) => statusOf(r, now));
  }

  async reset(name: string) {
    const [[, removed]] = (await this.client
      .multi()
      .del(this.key(name))
      .srem(this.names, name)
      .exec()) as [[unknown, number], [unknown, number]];
    return removed > 0;
  }
}
