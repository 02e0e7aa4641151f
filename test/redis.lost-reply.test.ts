import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { failedRecord } from '../src/failed/record.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';
import { RedisQueue } from '../src/queue/redis/redis-queue.js';
import { cutReplyProxy, type CutReplyProxy } from './helpers/cut-reply-proxy.js';
import {
  copyMigratedSqlite,
  deleteRedisKeys,
  redisAvailable,
  redisPrefix,
  redisUrl,
  tempDir,
  type TempDir,
} from './helpers/services.js';

/*
 * A Redis reply lost after the server did the work. A job's failure writes its failed_jobs row,
 * then removes the job from Redis; when the answer to that removal was lost, the driver asked
 * again, heard "no such job" and took it for a lost lease: it deleted the row, and the failure
 * was gone from both places. The row must stay: the job is gone from Redis, so nothing else
 * will record it.
 */
describe.skipIf(!redisAvailable())('redis: a reply lost after the server ran the command', () => {
  let dir: TempDir;
  let db: Database;
  let proxy: CutReplyProxy;
  let driver: RedisQueue;
  let prefix: string;

  beforeEach(async () => {
    dir = tempDir('jobsmith-lost-reply-');
    const filename = path.join(dir.path, 'database.sqlite');
    copyMigratedSqlite(filename);
    db = await openDatabase(parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: filename }), dir.path);
    const target = new URL(redisUrl());
    proxy = await cutReplyProxy({ host: target.hostname, port: Number(target.port || 6379) });
    prefix = redisPrefix('jobsmith-lost-reply').replace(/:$/, '');
    const via = new URL(redisUrl());
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    driver = new RedisQueue({ url: via.toString(), prefix, knex: async () => db.knex });
    await driver.connect();
  });
  afterEach(async () => {
    await driver?.close();
    await proxy?.close();
    await deleteRedisKeys(redisUrl(), `${prefix}:`);
    await db?.knex.destroy();
    dir?.cleanup();
  });

  it('keeps the failed row when the answer to the removal of a failed job is lost', async () => {
    await driver.push([
      { name: 'lost.reply', queue: 'default', payload: '{}', priority: 0, maxTries: 1, delayMs: 0 },
    ]);
    const [job] = await driver.claim(['default'], 1, 5_000);
    const marker = 'failure-whose-answer-is-lost';
    const record = failedRecord('redis', job!, 'error', new Error(marker));
    const lease = { id: job!.id, token: job!.token };
    proxy.cutReplyTo(marker);
    // The worker retries a fail() that threw (src/worker/settle.ts); at most twice here.
    let failed: boolean | undefined;
    for (let attempt = 0; attempt < 2 && failed === undefined; attempt++) {
      failed = await driver.fail(lease, record).catch(() => undefined);
    }
    expect(proxy.cuts).toBe(1);
    expect(failed).toBe(true);
    const rows = await new DatabaseFailedJobStore(db.knex).page({}, 0, 10);
    expect(rows.map((r) => [r.name, r.originalId])).toEqual([['lost.reply', job!.id]]);
    expect(await driver.sizes(['default'])).toEqual([
      expect.objectContaining({ pending: 0, delayed: 0, reserved: 0 }),
    ]);
  });
});
