import type * as IORedis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { redisDatabase } from '../../config/env.js';
import { ConfigError, ConnectionError } from '../../errors.js';
import { maskUrl } from '../../logging/redact.js';
import { requireNative } from '../../util/native-require.js';

// Loaded with require, past any loader hooks of the app: see util/native-require.ts.
const { Redis } = requireNative<typeof IORedis>('ioredis');
type Redis = IORedis.Redis;

/*
 * Connections to Redis for the redis queue driver: opening a client that fails fast when the
 * server is down, the errors a user sees, and the Redis server clock.
 */

/** How long a first connection may take before we give up (a firewalled host, a dead VPN). */
const CONNECT_TIMEOUT_MS = 3000;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (is DNS reachable?)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset by the server',
};

/** Maps a client error to one that names the server (password masked) and REDIS_URL. */
export function redisConnectionError(url: string, error: unknown): ConnectionError {
  const err = error as (Error & { code?: string }) | undefined;
  const text = err?.message ?? String(error);
  let reason = (err?.code && REASONS[err.code]) || text;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(text)) {
    reason = 'authentication failed (wrong user name or password)';
  }
  return new ConnectionError(`Cannot connect to Redis at ${maskUrl(url)}: ${reason}.`, {
    hint: 'Check REDIS_URL and that the Redis server is running.',
    cause: error,
  });
}

/** True for errors that mean "Redis is not reachable right now" rather than a bad command. */
export function isConnectionFailure(error: unknown): boolean {
  const err = error as (Error & { code?: string }) | undefined;
  if (!err) return false;
  if (err.code && err.code in REASONS) return true;
  return /Connection is closed|Stream isn't writeable|MaxRetriesPerRequest|ECONNREFUSED|connect ETIMEDOUT/i.test(
    err.message ?? '',
  );
}

export interface OpenOptions {
  /** Shown in CLIENT LIST, so an operator can tell jobsmith's connections apart. */
  name: string;
}

/**
 * Opens a client and waits until it is ready, failing with a ConnectionError after the first
 * refused or failed attempt (or CONNECT_TIMEOUT_MS): a producer with Redis down must not hang.
 * Once connected, the client reconnects for ever with backoff, so a worker rides out a Redis
 * restart.
 *
 * `maxRetriesPerRequest: null` keeps a command that was on the wire when the connection dropped
 * and sends it again after the reconnect (BullMQ requires this of workers), while
 * `enableOfflineQueue: false` makes commands issued during an outage fail at once instead of
 * piling up: the worker backs off and tries again, and a shutdown is never stuck behind them.
 */
export async function openRedis(url: string, options: OpenOptions): Promise<Redis> {
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectionName: options.name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    enableOfflineQueue: false,
    // Reconnect quickly at first (a restart takes well under a second), never slower than 2 s.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  const client = new Redis(url, redisOptions);
  let lastError: unknown;
  // Without a listener, a connection error would crash the process ('error' event).
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw redisConnectionError(url, lastError ?? error);
  }
  try {
    await checkDatabase(client, url);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/**
 * ioredis selects the URL's database once connected, and when the server refuses (`/99` on a
 * server of 16 databases) it only emits an error event and goes on in database 0, where the
 * jobs would be stored unseen. Select it again and fail with a ConfigError if Redis refuses.
 */
export async function checkDatabase(client: Redis, url: string): Promise<void> {
  const db = redisDatabase(url) ?? 0;
  if (db === 0) return;
  try {
    await client.select(db);
  } catch (error) {
    throw await databaseError(client, url, db, error);
  }
}

/** Names REDIS_URL, the database and how many the server has (when it says). */
export async function databaseError(
  client: Redis,
  url: string,
  db: number,
  cause: unknown,
): Promise<ConfigError> {
  let count: number | undefined;
  try {
    // CONFIG may be renamed or refused (managed Redis): then the count is left out.
    const reply = (await client.config('GET', 'databases')) as unknown as string[];
    count = Number(reply[1]);
  } catch {
    count = undefined;
  }
  const has = Number.isInteger(count)
    ? `; the server has ${count} (0 to ${count! - 1})`
    : ` (${(cause as Error)?.message ?? String(cause)})`;
  return new ConfigError(
    `REDIS_URL ${maskUrl(url)} selects database ${db}, which the Redis server does not have${has}.`,
    {
      hint: 'Use a database the server has in REDIS_URL (redis://host:6379/0), or raise `databases` in redis.conf.',
      cause,
    },
  );
}

/** Closes a client politely, or at once if the server does not answer within `ms`. */
export async function closeRedis(client: Redis | undefined, ms = 1000): Promise<void> {
  if (!client || client.status === 'end') return;
  if (client.status !== 'ready') return void client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  client.disconnect();
}

/**
 * The Redis server clock, as an offset from ours measured with TIME (error about half a round
 * trip). Every time a BullMQ script compares (when a delayed job is due) comes from here, so
 * workers and producers whose clocks disagree still agree on when a job may run.
 */
export class RedisClock {
  private offsetMs = 0;

  async sync(client: Redis): Promise<void> {
    const before = Date.now();
    const [seconds, micros] = await client.time();
    const after = Date.now();
    const server = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    this.offsetMs = server - Math.round((before + after) / 2);
  }

  /** Epoch milliseconds on the Redis server, as a whole number (BullMQ scores need one). */
  now(): number {
    return Date.now() + this.offsetMs;
  }
}
