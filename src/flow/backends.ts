/*
 * The FlowStore of each storage, assembled from the three stores. Loaded by the drivers, so
 * each store module stays small and owns its SQL or Lua.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { Database } from '../db/connection.js';
import { requireNative } from '../util/native-require.js';
import { PostgresBreakerStore } from './breakers/postgres.js';
import { RedisBreakerStore } from './breakers/redis.js';
import { SqliteBreakerStore } from './breakers/sqlite.js';
import { PostgresLockStore } from './locks/postgres.js';
import { RedisLockStore } from './locks/redis.js';
import { SqliteLockStore } from './locks/sqlite.js';
import type { FlowStore } from './types.js';
import { PostgresRateLimitStore } from './rate-limits/postgres.js';
import { RedisRateLimitStore } from './rate-limits/redis.js';
import { SqliteRateLimitStore } from './rate-limits/sqlite.js';

/** Flow control on a SQLite file, through the driver's own better-sqlite3 connection. */
export function sqliteFlowStore(db: BetterSqlite3.Database): FlowStore {
  return {
    rateLimits: new SqliteRateLimitStore(db),
    locks: new SqliteLockStore(db),
    breakers: new SqliteBreakerStore(db),
  };
}

/** Flow control on PostgreSQL. */
export function postgresFlowStore(knex: Knex): FlowStore {
  return {
    rateLimits: new PostgresRateLimitStore(knex),
    locks: new PostgresLockStore(knex),
    breakers: new PostgresBreakerStore(knex),
  };
}

/** Flow control on Redis, under the connection's key prefix. */
export function redisFlowStore(client: Redis, prefix: string): FlowStore {
  return {
    rateLimits: new RedisRateLimitStore(client, prefix),
    locks: new RedisLockStore(client, prefix),
    breakers: new RedisBreakerStore(client, prefix),
  };
}

/**
 * Flow control on the SQL storage itself, for a driver with no connection of its own (sync).
 * On SQLite it opens its own better-sqlite3 connection to the file, which `close` ends.
 */
export function databaseFlowStore(db: Database): { store: FlowStore; close(): void } {
  if (db.dialect === 'pgsql') return { store: postgresFlowStore(db.knex), close() {} };
  const Sqlite = requireNative<typeof import('better-sqlite3')>('better-sqlite3');
  const conn = new Sqlite(db.describe);
  conn.pragma('busy_timeout = 5000');
  return { store: sqliteFlowStore(conn), close: () => conn.close() };
}
