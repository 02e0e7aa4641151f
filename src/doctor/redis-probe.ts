import type * as IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { maskUrl } from '../logging/redact.js';
import { requireNative } from '../util/native-require.js';

/** REDIS_URL names a database the server does not have. */
export class RedisDatabaseError extends Error {}

/** The path of a URL without its slash (`/3` → `3`), '' when there is none or no URL. */
function safePath(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}

/** What {@link probeRedis} found. */
export interface RedisFacts {
  /** Round trip of one PING, ms. */
  pingMs: number;
  /** The error of a SET under the key prefix (READONLY, MISCONF, OOM...), when it failed. */
  writeError?: string;
  /** `redis_version` from INFO, when INFO answers. */
  version?: string;
  /** `maxmemory` in bytes (0: no limit), when INFO answers. */
  maxmemory?: number;
  maxmemoryPolicy?: string;
}

/**
 * Checks a Redis server the way the workers will use it: one PING, then a key written under
 * `prefix` (with a 10 s expiry) and deleted, then INFO for the version and the eviction policy.
 * Bounded: a short connect timeout, no reconnects and no offline queue, so an unreachable
 * server fails in about `timeoutMs`.
 * @throws Error `Redis at URL: reason` (password masked) when the server cannot be reached or
 *   refuses PING; RedisDatabaseError when the URL's database number is not one the server has
 */
export async function probeRedis(
  url: string,
  prefix: string,
  timeoutMs = 2000,
): Promise<RedisFacts> {
  // The database number is selected here, not by ioredis: given `/abc` it sends SELECT NaN and
  // the refusal escapes as an uncaught error; given `/99` on a 16-database server it stays on
  // database 0 without a word.
  const dbText = safePath(url);
  if (dbText && !/^\d+$/.test(dbText)) {
    throw new RedisDatabaseError(
      `Redis at ${maskUrl(url)}: "${dbText}" in REDIS_URL is not a database number`,
    );
  }
  const db = Number(dbText || 0);
  const { Redis } = requireNative<typeof IORedis>('ioredis');
  const client = new Redis(url, {
    db: 0,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket error (ECONNREFUSED...) arrives as an event; the promise only says "Connection
  // is closed". Keep it for the message. Without a listener ioredis would print it.
  let socketError: NodeJS.ErrnoException | undefined;
  client.on('error', (error: NodeJS.ErrnoException) => {
    socketError ??= error;
  });
  let timer: NodeJS.Timeout | undefined;
  const bounded = <T>(work: Promise<T>) =>
    Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutMs}ms`)),
          timeoutMs + 500,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  try {
    const started = Date.now();
    let pingMs: number;
    try {
      const reply = await bounded(client.connect().then(() => client.ping()));
      if (reply !== 'PONG') throw new Error(`unexpected reply to PING: ${String(reply)}`);
      pingMs = Date.now() - started;
    } catch (error) {
      const err = socketError ?? (error as NodeJS.ErrnoException);
      const reasons: Record<string, string> = {
        ECONNREFUSED: 'connection refused',
        ENOTFOUND: 'host not found',
        ETIMEDOUT: 'connection timed out',
      };
      const reason = (err.code && reasons[err.code]) || err.message;
      throw new Error(`Redis at ${maskUrl(url)}: ${reason}`, { cause: error });
    }
    if (db !== 0) {
      await bounded(client.select(db)).catch(async (error: Error) => {
        // The same words as a worker's (src/queue/redis/redis-connection.ts), with the count.
        const { databaseError } = await import('../queue/redis/redis-connection.js');
        const named = await databaseError(client, url, db, error);
        throw new RedisDatabaseError(named.message, { cause: error });
      });
    }
    const facts: RedisFacts = { pingMs };
    const key = `${prefix}:doctor:${randomBytes(6).toString('hex')}`;
    try {
      await bounded(client.set(key, 'write probe', 'PX', 10_000));
      await bounded(client.del(key));
    } catch (error) {
      facts.writeError = (error as Error).message;
    }
    try {
      const info = await bounded(client.info());
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
      facts.version = field('redis_version');
      const maxmemory = field('maxmemory');
      if (maxmemory !== undefined) facts.maxmemory = Number(maxmemory);
      facts.maxmemoryPolicy = field('maxmemory_policy');
    } catch {
      // INFO may be renamed or disabled on managed servers: those checks are then skipped.
    }
    return facts;
  } finally {
    client.disconnect();
  }
}
