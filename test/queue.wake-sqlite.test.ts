/**
 * How an idle SQLite worker learns of another connection's commit: the WAL watch
 * (src/queue/database/sqlite-wal-watch.ts), with polling set so slow here that only the watch
 * can end the wait; the baseline taken at the claim; and the pacing of wakes that find nothing.
 * Latency itself is measured in bench/telegram.mjs, not here.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { SqliteQueue } from '../src/queue/database/sqlite-queue.js';
import { WakePacer } from '../src/queue/database/sqlite-wal-watch.js';
import { newJob } from './conformance/support.js';
import { tempDir, type TempDir } from './helpers/services.js';

/** Far longer than any test: a wait that ends did not end by polling or timing out. */
const NEVER_MS = 600_000;

describe('sqlite: an idle worker wakes on another connection’s commit', () => {
  let dir: TempDir;
  let db: Database;
  let waiter: SqliteQueue;
  let other: SqliteQueue;

  beforeEach(async () => {
    dir = tempDir('jobsmith-sqlite-wake-');
    const filename = path.join(dir.path, 'database.sqlite');
    db = await openDatabase(parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: filename }), dir.path);
    await migrateLatest(db);
    waiter = new SqliteQueue({ filename, pollMs: NEVER_MS });
    other = new SqliteQueue({ filename });
  });
  afterEach(async () => {
    await waiter.close();
    await other.close();
    await db.knex.destroy();
    dir.cleanup();
  });

  /** Resolves 'woken' when `wait` ends, 'still waiting' after 10 s. */
  const outcome = (wait: Promise<void>) =>
    Promise.race([
      wait.then(() => 'woken'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000).unref()),
    ]);

  it('a push by another connection ends the wait through the WAL watch, polling being off', async () => {
    expect(await waiter.claim(['default'], 1, 60_000)).toEqual([]);
    const wait = waiter.waitForJobs(['default'], NEVER_MS, new AbortController().signal);
    const [pushed] = await other.push([newJob()]);
    expect(await outcome(wait)).toBe('woken');
    const claimed = await waiter.claim(['default'], 1, 60_000);
    expect(claimed.map((j) => j.id)).toEqual([pushed!.id]);
  });

  it('a write that is no news (its own) does not stop the watch from waking it later', async () => {
    await other.push([newJob({ queue: 'elsewhere' })]);
    expect(await waiter.claim(['default'], 1, 60_000)).toEqual([]);
    const wait = waiter.waitForJobs(['default'], NEVER_MS, new AbortController().signal);
    // Its own commit reaches the WAL too; data_version does not move for it.
    expect(await waiter.claim(['elsewhere'], 1, 60_000)).toHaveLength(1);
    // Lets the watch see that write alone (with a fault, it would then ignore the next).
    await new Promise((resolve) => setTimeout(resolve, 20));
    await other.push([newJob()]);
    expect(await outcome(wait)).toBe('woken');
  });

  it('a push between the claim that found nothing and the wait ends the wait at once', async () => {
    expect(await waiter.claim(['default'], 1, 60_000)).toEqual([]);
    await other.push([newJob()]);
    const wait = waiter.waitForJobs(['default'], NEVER_MS, new AbortController().signal);
    expect(await outcome(wait)).toBe('woken');
  });
});

describe('WakePacer', () => {
  it('acts at once on a lone write, and spaces out wakes that keep finding nothing', () => {
    const pacer = new WakePacer(50);
    expect(pacer.delay(0)).toBe(0);
    const gaps: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      now += pacer.delay(now);
      pacer.woke(now);
      pacer.claimed(0);
      gaps.push(pacer.delay(now));
    }
    expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 50, 50]);
    // A claim that finds jobs starts over.
    pacer.woke(now);
    pacer.claimed(3);
    expect(pacer.delay(now)).toBe(0);
  });

  it('starts over after a quiet second', () => {
    const pacer = new WakePacer(50);
    for (let i = 0; i < 5; i++) {
      pacer.woke(i);
      pacer.claimed(0);
    }
    expect(pacer.delay(5)).toBeGreaterThan(0);
    expect(pacer.delay(5 + 1001)).toBe(0);
  });

  it('counts only claims that follow a wake', () => {
    const pacer = new WakePacer(50);
    pacer.claimed(0);
    pacer.claimed(0);
    expect(pacer.delay(0)).toBe(0);
  });
});
