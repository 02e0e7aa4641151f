/**
 * job_batches / job_batch_jobs on SQLite and PostgreSQL (src/workflows/batches/store.ts): an
 * outcome counts once however often it is recorded, by however many connections; the outcome
 * that takes pending to 0 (and only it) makes then/finally due; the first failure makes catch
 * due and cancels the batch unless it allows failures; a callback's run is claimed by one job.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import {
  cancelBatch,
  claimCallback,
  findBatch,
  growBatch,
  insertBatch,
  listBatches,
  reopenFailedJobs,
  type BatchOptions,
} from '../src/workflows/batches/store.js';
import { recordOutcome } from '../src/workflows/batches/record-outcome.js';
import { createTestDatabase, pgAvailable, tempDir } from './helpers/services.js';

const backends = [
  {
    name: 'sqlite',
    available: () => true,
    async open() {
      const dir = tempDir('jobsmith-batches-store-');
      const env = parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: 'db.sqlite' });
      const a = await openDatabase(env, dir.path);
      const b = await openDatabase(env, dir.path);
      return { a, b, drop: async () => dir.cleanup() };
    },
  },
  {
    name: 'pgsql',
    available: pgAvailable,
    async open() {
      const pg = await createTestDatabase();
      const env = parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url });
      const a = await openDatabase(env, process.cwd());
      const b = await openDatabase(env, process.cwd());
      return { a, b, drop: () => pg.drop() };
    },
  },
];

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const CB = { name: 'cb', queue: null, payload: {}, options: {} };

function options(over: Partial<BatchOptions> = {}): BatchOptions {
  return {
    allowFailures: false,
    queue: null,
    connection: null,
    then: CB,
    catch: CB,
    finally: CB,
    ran: {},
    ...over,
  };
}

for (const backend of backends) {
  describe.skipIf(!backend.available())(`batch store (${backend.name})`, () => {
    let a: Database;
    let b: Database;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ a, b, drop } = await backend.open());
      await migrateLatest(a);
    });
    /*
     * Two calls at once on PostgreSQL; one after the other on SQLite, whose synchronous driver
     * would wait on its own process's lock (processes race in test/batches.kill.test.ts).
     */
    async function both<T>(x: () => Promise<T>, y: () => Promise<T>): Promise<[T, T]> {
      if (backend.name === 'sqlite') return [await x(), await y()];
      return Promise.all([x(), y()]);
    }
    afterEach(async () => {
      await a.knex.destroy();
      await b.knex.destroy();
      await drop();
    });

    it('counts each outcome once, and only the last one makes then and finally due', async () => {
      await insertBatch(a.knex, { id: 'b1', name: 'n', total: 20, options: options(), now: T0 });
      const dues: string[][] = [];
      // Every job recorded twice, by two connections at once.
      for (let i = 0; i < 20; i++) {
        const o = { batchId: 'b1', jobId: String(i), outcome: 'succeeded' as const, now: T0 + i };
        const [x, y] = await both(
          () => recordOutcome(a.knex, o),
          () => recordOutcome(b.knex, o),
        );
        expect([x.recorded, y.recorded].sort()).toEqual([false, true]);
        const first = x.recorded ? x : y;
        if (first.due.length > 0) dues.push(first.due);
      }
      expect(dues).toEqual([['then', 'finally']]);
      const batch = await findBatch(a.knex, 'b1');
      expect(batch).toMatchObject({ total: 20, pending: 0, failed: 0, finishedAt: T0 + 19 });
      // A record again after the end (a crash before the settle) says what is due, for a re-push.
      const again = await recordOutcome(a.knex, {
        batchId: 'b1',
        jobId: '3',
        outcome: 'succeeded',
        now: T0,
      });
      expect(again).toMatchObject({ recorded: false, due: ['then', 'finally'] });
    });

    it('records outcomes settled at once together: each counted once, catch and finally due once', async () => {
      await insertBatch(a.knex, {
        id: 'b9',
        name: null,
        total: 50,
        options: options({ allowFailures: true }),
        now: T0,
      });
      // 50 jobs, two of them failed, and ten recorded twice (runs again after a crash).
      const list = Array.from({ length: 60 }, (_, i) => ({
        batchId: 'b9',
        jobId: String(i % 50),
        outcome: i === 7 || i === 31 ? ('failed' as const) : ('succeeded' as const),
        now: T0 + i,
      }));
      const results = await Promise.all(list.map((o) => recordOutcome(a.knex, o)));
      expect(results.filter((r) => r.recorded)).toHaveLength(50);
      const firsts = results.filter((r) => r.recorded).flatMap((r) => r.due);
      expect(firsts.sort()).toEqual(['catch', 'finally']);
      expect(await findBatch(a.knex, 'b9')).toMatchObject({
        total: 50,
        pending: 0,
        failed: 2,
        cancelledAt: null,
      });
      expect((await findBatch(a.knex, 'b9'))!.failedJobIds.sort()).toEqual(['31', '7']);
    });

    it('records a group that finishes two batches at once: then and finally due once for each', async () => {
      for (const id of ['g1', 'g2'])
        await insertBatch(a.knex, { id, name: null, total: 15, options: options(), now: T0 });
      // The two batches' jobs interleaved, all settled in the same turn.
      const list = Array.from({ length: 30 }, (_, i) => ({
        batchId: i % 2 === 0 ? 'g1' : 'g2',
        jobId: String(i),
        outcome: 'succeeded' as const,
        now: T0 + i,
      }));
      const results = await Promise.all(list.map((o) => recordOutcome(a.knex, o)));
      expect(results.every((r) => r.recorded)).toBe(true);
      const due = (id: string) =>
        results.filter((_, i) => list[i]!.batchId === id).flatMap((r) => r.due);
      expect(due('g1')).toEqual(['then', 'finally']);
      expect(due('g2')).toEqual(['then', 'finally']);
      for (const id of ['g1', 'g2']) {
        const batch = await findBatch(a.knex, id);
        expect(batch).toMatchObject({ total: 15, pending: 0, failed: 0 });
        expect(batch!.finishedAt).not.toBeNull();
      }
    });

    it('makes catch due on the first failure only and cancels the batch', async () => {
      await insertBatch(a.knex, { id: 'b2', name: null, total: 3, options: options(), now: T0 });
      const one = await recordOutcome(a.knex, {
        batchId: 'b2',
        jobId: '1',
        outcome: 'failed',
        now: T0,
      });
      expect(one.due).toEqual(['catch']);
      expect(one.batch).toMatchObject({ failed: 1, failedJobIds: ['1'], cancelledAt: T0 });
      const two = await recordOutcome(a.knex, {
        batchId: 'b2',
        jobId: '2',
        outcome: 'failed',
        now: T0 + 1,
      });
      expect(two.due).toEqual([]);
      const three = await recordOutcome(a.knex, {
        batchId: 'b2',
        jobId: '3',
        outcome: 'cancelled',
        now: T0 + 2,
      });
      expect(three.due).toEqual(['finally']);
      expect(three.batch).toMatchObject({
        pending: 0,
        failed: 2,
        failedJobIds: ['1', '2'],
        cancelledAt: T0,
      });
    });

    it('with allowFailures a failure does not cancel, and then does not run unless all succeeded', async () => {
      await insertBatch(a.knex, {
        id: 'b3',
        name: null,
        total: 2,
        options: options({ allowFailures: true }),
        now: T0,
      });
      const one = await recordOutcome(a.knex, {
        batchId: 'b3',
        jobId: '1',
        outcome: 'failed',
        now: T0,
      });
      expect(one.due).toEqual(['catch']);
      expect(one.batch?.cancelledAt).toBeNull();
      const two = await recordOutcome(a.knex, {
        batchId: 'b3',
        jobId: '2',
        outcome: 'succeeded',
        now: T0,
      });
      expect(two.due).toEqual(['finally']);
    });

    it('gives a callback run to one job of two copies', async () => {
      await insertBatch(a.knex, { id: 'b4', name: null, total: 1, options: options(), now: T0 });
      const [x, y] = await both(
        () => claimCallback(a.knex, 'b4', 'then', '10'),
        () => claimCallback(b.knex, 'b4', 'then', '11'),
      );
      expect([x, y].filter(Boolean)).toHaveLength(1);
      // The winner run again (a retry of the same job) keeps its claim.
      expect(await claimCallback(a.knex, 'b4', 'then', x ? '10' : '11')).toBe(true);
      expect(await claimCallback(a.knex, 'b4', 'finally', '12')).toBe(true);
      expect((await findBatch(a.knex, 'b4'))?.options.ran).toEqual({
        then: x ? '10' : '11',
        finally: '12',
      });
    });

    it('re-opens failed jobs for a retry: counted pending again, then counted once more', async () => {
      await insertBatch(a.knex, { id: 'r1', name: null, total: 3, options: options(), now: T0 });
      await recordOutcome(a.knex, { batchId: 'r1', jobId: '1', outcome: 'failed', now: T0 });
      await recordOutcome(a.knex, { batchId: 'r1', jobId: '2', outcome: 'succeeded', now: T0 });
      await recordOutcome(a.knex, { batchId: 'r1', jobId: '3', outcome: 'cancelled', now: T0 });
      expect(await findBatch(a.knex, 'r1')).toMatchObject({ pending: 0, failed: 1 });
      // Only failed outcomes re-open; unknown ids are ignored.
      expect(await reopenFailedJobs(a.knex, 'r1', ['1', '2', '9'], { uncancel: true })).toEqual([
        '1',
      ]);
      expect(await findBatch(a.knex, 'r1')).toMatchObject({
        pending: 1,
        failed: 0,
        failedJobIds: [],
        finishedAt: null,
        cancelledAt: null,
      });
      // The retry (a new job id) settles the batch again.
      const done = await recordOutcome(a.knex, {
        batchId: 'r1',
        jobId: '4',
        outcome: 'succeeded',
        now: T0,
      });
      expect(done.batch).toMatchObject({ pending: 0, failed: 0 });
      expect(done.due).toEqual(['finally']); // a job ended cancelled: not then
    });

    it('grows an unfinished batch, cancels once, and lists newest first by pages', async () => {
      for (let i = 0; i < 5; i++) {
        await insertBatch(a.knex, {
          id: `p${i}`,
          name: null,
          total: 1,
          options: options(),
          now: T0 + i,
        });
      }
      expect(await growBatch(a.knex, 'p0', 2)).toBe(true);
      expect(await findBatch(a.knex, 'p0')).toMatchObject({ total: 3, pending: 3 });
      expect((await cancelBatch(a.knex, 'p1', T0 + 100))?.cancelledAt).toBe(T0 + 100);
      expect((await cancelBatch(a.knex, 'p1', T0 + 200))?.cancelledAt).toBe(T0 + 100);
      expect(await cancelBatch(a.knex, 'nope', T0)).toBeUndefined();
      const first = await listBatches(a.knex, { limit: 3 });
      expect(first.map((x) => x.id)).toEqual(['p4', 'p3', 'p2']);
      const next = await listBatches(a.knex, { limit: 3, after: 'p2' });
      expect(next.map((x) => x.id)).toEqual(['p1', 'p0']);
      await recordOutcome(a.knex, { batchId: 'p4', jobId: '1', outcome: 'succeeded', now: T0 });
      expect(await growBatch(a.knex, 'p4', 1)).toBe(false);
    });
  });
}
