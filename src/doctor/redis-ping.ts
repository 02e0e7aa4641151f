import { redisDatabase } from '../config/env.js';
import { ConfigError } from '../errors.js';
import { maskUrl } from '../logging/redact.js';

/**
 * Sends one PING to Redis and returns the round trip in ms. Bounded: a short connect timeout,
 * no reconnects and no offline queue, so an unreachable server fails in about `timeoutMs`.
 */
export async function pingRedis(url: string, timeoutMs = 2000): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
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
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await Promise.race([
      client.connect().then(async () => {
        // ioredis only emits an error when the URL's database does not exist: ask again.
        const db = redisDatabase(url) ?? 0;
        if (db !== 0) {
          const { databaseError } = await import('../queue/redis/redis-connection.js');
          await client.select(db).catch(async (error: unknown) => {
            throw await databaseError(client, url, db, error);
          });
        }
        return client.ping();
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutMs}ms`)),
          timeoutMs + 500,
        );
      }),
    ]);
    if (reply !== 'PONG') throw new Error(`unexpected reply to PING: ${String(reply)}`);
    return Date.now() - started;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const err = socketError ?? (error as NodeJS.ErrnoException);
    const reasons: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host not found',
      ETIMEDOUT: 'connection timed out',
    };
    const reason = (err.code && reasons[err.code]) || err.message;
    throw new Error(`Redis at ${maskUrl(url)}: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
