/**
 * The drivers the conformance suite runs against, one entry each. Every test file loops over
 * `drivers` with `describe.skipIf(!d.available())(d.name, ...)`, so a new driver (redis) is one
 * more entry here: a factory that opens fresh, isolated storage and a driver on it.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { PostgresQueue } from '../../src/queue/database/postgres-queue.js';
import { RedisQueue } from '../../src/queue/redis/redis-queue.js';
import { SqliteQueue } from '../../src/queue/database/sqlite-queue.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import {
  copyMigratedSqlite,
  createMigratedTestDatabase,
  pgAvailable,
  deleteRedisKeys,
  redisAvailable,
  redisPrefix,
  redisUrl,
  tempDir,
} from '../helpers/services.js';

/** Fresh, migrated storage and a driver on it, for one test. */
export interface Harness {
  /** The driver under test. */
  driver: QueueDriver;
  /** The SQL storage every driver shares: failed_jobs and the worker control tables. */
  knex: Knex;
  /**
   * Another driver on the same storage, opened the way a second process would open it (its own
   * connection). Closed by teardown().
   */
  connect(): Promise<QueueDriver>;
  /** Closes every driver and connection and removes the storage. Safe to call twice. */
  teardown(): Promise<void>;
}

export interface DriverFactory {
  name: string;
  /** False when the driver's server is unreachable (the suite is skipped, with a notice). */
  available(): boolean;
  setup(): Promise<Harness>;
}

/** Tracks what a harness opened so teardown closes it all, drivers first, storage last. */
function harness(
  db: Database,
  driver: QueueDriver,
  open: () => QueueDriver | Promise<QueueDriver>,
  dispose: () => Promise<void>,
): Harness {
  const drivers: QueueDriver[] = [driver];
  let down = false;
  return {
    driver,
    knex: db.knex,
    async connect() {
      const extra = await open();
      drivers.push(extra);
      return extra;
    },
    async teardown() {
      if (down) return;
      down = true;
      await Promise.allSettled(drivers.map((d) => d.close()));
      await db.knex.destroy();
      await dispose();
    },
  };
}

const sqlite: DriverFactory = {
  name: 'sqlite',
  available: () => true,
  async setup() {
    const dir = tempDir('jobsmith-conformance-');
    const filename = path.join(dir.path, 'database.sqlite');
    copyMigratedSqlite(filename);
    const env = parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: filename });
    const db = await openDatabase(env, dir.path);
    const open = () => new SqliteQueue({ filename });
    return harness(db, open(), open, async () => dir.cleanup());
  },
};

const pgsql: DriverFactory = {
  name: 'pgsql',
  available: pgAvailable,
  async setup() {
    const database = await createMigratedTestDatabase();
    const env = parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: database.url });
    const db = await openDatabase(env, process.cwd());
    // A second "process" gets its own pool, as another worker would.
    const pools: Knex[] = [];
    const open = async () => {
      const other = await openDatabase(env, process.cwd());
      pools.push(other.knex);
      return new PostgresQueue({ knex: other.knex, url: database.url });
    };
    return harness(db, new PostgresQueue({ knex: db.knex, url: database.url }), open, async () => {
      await Promise.allSettled(pools.map((k) => k.destroy()));
      await database.drop();
    });
  },
};

/**
 * Jobs in the shared test Redis under a key prefix of their own; failed jobs and the worker
 * control tables in a fresh SQLite file, as a redis user's SQL storage.
 */
const redis: DriverFactory = {
  name: 'redis',
  available: redisAvailable,
  async setup() {
    const dir = tempDir('jobsmith-conformance-redis-');
    const filename = path.join(dir.path, 'database.sqlite');
    copyMigratedSqlite(filename);
    const env = parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: filename });
    const db = await openDatabase(env, dir.path);
    const url = redisUrl();
    const prefix = redisPrefix('jobsmith-conformance').replace(/:$/, '');
    const open = async () => {
      const driver = new RedisQueue({ url, prefix, knex: async () => db.knex });
      await driver.connect();
      return driver;
    };
    return harness(db, await open(), open, async () => {
      await deleteRedisKeys(url, `${prefix}:`);
      dir.cleanup();
    });
  },
};

/** Every driver the suite covers. */
export const drivers: DriverFactory[] = [sqlite, pgsql, redis];
