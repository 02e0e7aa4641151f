import type { Redis } from 'ioredis';
import { storableKey } from '../../util/stored-text.js';
import { wholeMs } from '../../util/whole.js';
import type { LockAcquired, LockInfo, LockStore } from './store.js';

/*
 * Locks as Redis keys, `<prefix>:jobsmith:lock:<key>` holding the token, with the lease as the
 * key's own expiry (PX): Redis drops an expired lock by itself, on its own clock. Each call is
 * one script (compare-and-set, compare-and-pexpire, compare-and-delete), so that checking the
 * token and acting on it cannot be split by another client.
 */

const SCRIPTS = {
  jobsmithLockAcquire: {
    numberOfKeys: 1,
    lua: `--[[
  Takes a lock for a token: when the key is free (Redis dropped it when its lease ran out), or
  when this token holds it already (its lease then starts again).

  KEYS[1] the lock key
  ARGV[1] token  ARGV[2] lease in milliseconds (whole, at least 1)
  Returns 0 when the token now holds the lock; else the milliseconds until the holder's lease
  runs out (at least 1). A key without an expiry (written by hand) reports one lease, so that
  callers wait rather than spin.
]]
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return tonumber(ARGV[2]) end
return math.max(1, ttl)`,
  },
  jobsmithLockRenew: {
    numberOfKeys: 1,
    lua: `--[[
  Restarts the lease of a lock the token still holds.

  KEYS[1] the lock key
  ARGV[1] token  ARGV[2] lease in milliseconds (whole, at least 1)
  Returns 1 when renewed; 0, changing nothing, when the key is gone (its lease ran out) or
  another token holds it.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
  },
  jobsmithLockRelease: {
    numberOfKeys: 1,
    lua: `--[[
  Frees a lock the token holds.

  KEYS[1] the lock key
  ARGV[1] token
  Returns 1 when freed; 0, changing nothing, when the key is gone or another token holds it.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`,
  },
} as const;

type Scripted = Redis & {
  [K in keyof typeof SCRIPTS]: (key: string, ...args: Array<string | number>) => Promise<number>;
};

/** Clients the scripts were added to; several stores may share one client. */
const defined = new WeakSet<Redis>();

function scripted(client: Redis): Scripted {
  if (!defined.has(client)) {
    for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script);
    defined.add(client);
  }
  return client as Scripted;
}

/** `text` matched literally by SCAN's glob pattern. */
const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** Leased locks on Redis, under the connection's key prefix. */
export class RedisLockStore implements LockStore {
  private readonly base: string;

  constructor(
    private readonly client: Redis,
    prefix: string,
  ) {
    this.base = `${prefix}:jobsmith:lock:`;
  }

  private keyOf(key: string): string {
    return this.base + storableKey(key);
  }

  async acquire(key: string, token: string, ttlMs: number): Promise<LockAcquired> {
    const wait = await scripted(this.client).jobsmithLockAcquire(
      this.keyOf(key),
      token,
      wholeMs(ttlMs),
    );
    return wait === 0 ? { acquired: true } : { acquired: false, expiresInMs: Number(wait) };
  }

  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    const renewed = await scripted(this.client).jobsmithLockRenew(
      this.keyOf(key),
      token,
      wholeMs(ttlMs),
    );
    return renewed === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await scripted(this.client).jobsmithLockRelease(this.keyOf(key), token)) === 1;
  }

  /** Walks the prefix with SCAN (never KEYS, which would block the server on a big database). */
  async list(): Promise<LockInfo[]> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(
        cursor,
        'MATCH',
        `${globEscape(this.base)}*`,
        'COUNT',
        1000,
      );
      for (const key of batch) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
    const names = [...keys].sort();
    if (names.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const name of names) pipeline.get(name).pttl(name);
    const replies = (await pipeline.exec()) ?? [];
    const locks: LockInfo[] = [];
    names.forEach((name, i) => {
      const token = replies[2 * i]?.[1];
      const ttl = Number(replies[2 * i + 1]?.[1]);
      // Gone between the SCAN and the reads: its lease ran out, or it was released.
      if (typeof token !== 'string' || ttl === -2) return;
      locks.push({ key: name.slice(this.base.length), token, expiresInMs: Math.max(1, ttl) });
    });
    return locks;
  }
}
