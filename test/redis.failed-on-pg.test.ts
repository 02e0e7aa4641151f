import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { failedRecord } from '../src/failed/record.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';
import { RedisQueue } from '../src/queue/redis/redis-queue.js';
import {
  createTestDatabase,
  deleteRedisKeys,
  pgAvailable,
  redisAvailable,
  redisPrefix,
  redisUrl,
  type TestDatabase,
} from './helpers/services.js';

/*
 * Jobs on Redis, failed jobs in PostgreSQL (QUEUE_CONNECTION=redis with DB_CONNECTION=pgsql): a
 * Redis job id is `<queue>:<id>`, up to 201 characters, and failed_jobs.original_id holds 64.
 * PostgreSQL refused the row ("value too long"), so the settle failed; SQLite never checks.
 */
const both = pgAvailable() && redisAvailable();

describe.skipIf(!both)('redis jobs failing into PostgreSQL', () => {
  let pg: TestDatabase;
  let db: Database;
  let driver: RedisQueue;
  let prefix: string;
  beforeEach(async () => {
    pg = await createTestDatabase();
    db = await openDatabase(parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url }), '.');
    await migrateLatest(db);
    prefix = redisPrefix('jobsmith-failed-pg').replace(/:$/, '');
    driver = new RedisQueue({ url: redisUrl(), prefix, knex: async () => db.knex });
    await driver.connect();
  });
  afterEach(async () => {
    await driver.close();
    await deleteRedisKeys(redisUrl(), `${prefix}:`);
    await db.knex.destroy();
    await pg.drop();
  });

  it('records the failure of a job on a queue with a long name, its error with NUL', async () => {
    const queue = `q${'x'.repeat(150)}`;
    await driver.push([
      { name: 'long.job', queue, payload: '{}', priority: 0, maxTries: 1, delayMs: 0 },
    ]);
    const [job] = await driver.claim([queue], 1, 5_000);
    const record = failedRecord('redis', job!, 'error', new Error('bad\u0000byte'));
    expect(await driver.fail({ id: job!.id, token: job!.token }, record)).toBe(true);
    const [row] = await new DatabaseFailedJobStore(db.knex).page({ queue }, 0, 10);
    expect(row).toMatchObject({ name: 'long.job', reason: 'error' });
    expect(row!.exception.split('\n')[0]).toBe('Error: bad\\u0000byte');
    expect(row!.originalId!.length).toBeLessThanOrEqual(64);
    expect(row!.originalId!.startsWith(`q${'x'.repeat(10)}`)).toBe(true);
  });
});
