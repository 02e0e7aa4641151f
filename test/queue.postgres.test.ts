import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { PostgresQueue } from '../src/queue/database/postgres-queue.js';
import type { NewJob } from '../src/queue/driver.js';
import { waitFor } from './helpers/wait.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/services.js';

const job = (i: number): NewJob => ({
  queue: 'default',
  name: 'plans.job',
  payload: JSON.stringify({ i }),
  priority: 0,
  maxTries: 3,
  delayMs: 0,
});

describePg('pgsql driver: the worker statements', () => {
  let database: TestDatabase;
  let db: Database;
  let driver: PostgresQueue;
  beforeEach(async () => {
    database = await createTestDatabase();
    db = await openDatabase(
      parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: database.url }),
      process.cwd(),
    );
    await migrateLatest(db);
    driver = new PostgresQueue({ knex: db.knex, url: database.url });
  });
  afterEach(async () => {
    await driver.close();
    await db.knex.destroy();
    await database.drop();
  });

  /** Scans of the jobs table so far, as PostgreSQL's statistics report them. */
  async function scans(): Promise<{ seq: number; idx: number }> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ seq: string; idx: string }>(
        "select seq_scan as seq, idx_scan as idx from pg_stat_user_tables where relname = 'jobs'",
      );
      return { seq: Number(rows[0]!.seq), idx: Number(rows[0]!.idx) };
    } finally {
      await client.end();
    }
  }

  it('claims and completes through the indexes even when the plans were made on an empty table', async () => {
    // The worker's statements are planned once per connection: here, on an empty table.
    expect(await driver.claim(['default'], 10, 60_000)).toEqual([]);
    await driver.push(Array.from({ length: 2000 }, (_, i) => job(i)));
    for (let i = 0; i < 5; i++) {
      const claimed = await driver.claim(['default'], 50, 60_000);
      expect(claimed).toHaveLength(50);
      expect(await driver.complete(claimed)).toHaveLength(50);
    }
    // A backend reports its statistics when idle for a while, or when it exits: close the
    // driver's connections, then wait until their scans show up.
    await driver.close();
    const seen = await waitFor(
      async () => {
        const s = await scans();
        return s.idx + s.seq >= 11 ? s : false;
      },
      { timeoutMs: 5000 },
    );
    expect(seen && seen.seq).toBe(0);
  });

  it('settles leases whose tokens need quoting in an array literal: a stranger token matches nothing', async () => {
    await driver.push([job(1), job(2)]);
    const [a, b] = await driver.claim(['default'], 2, 60_000);
    const odd = `x",'{}\\ NULL`;
    expect(await driver.complete([{ id: a!.id, token: odd }, b!])).toEqual([b!.id]);
    expect(await driver.extend([{ id: a!.id, token: odd }, a!], 60_000)).toEqual([a!.id]);
    expect(await driver.complete([a!])).toEqual([a!.id]);
  });
});
