/**
 * Batches on every driver (src/workflows/batches/, docs/workflows.md "Batches"): then, catch
 * and finally each run once, as jobs; the counts are exact; the first failure cancels the rest
 * unless the batch allows failures; a cancelled batch's jobs end cancelled without running;
 * ctx.batch.add grows the batch; a callback pushed again (as after a crash) runs once.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { Permanent } from '../../src/jobs/errors.js';
import type { BatchContext } from '../../src/jobs/types.js';
import { Dispatcher } from '../../src/queue/dispatcher.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import type { WorkflowServices } from '../../src/worker/deps.js';
import { batch } from '../../src/workflows/batches/builder.js';
import { pushCallbacks } from '../../src/workflows/batches/record.js';
import { cancelBatch, findBatch, listBatchOutcomes } from '../../src/workflows/batches/store.js';
import { step } from '../../src/workflows/step.js';
import { waitFor } from '../helpers/wait.js';
import { drivers, type Harness } from './drivers.js';
import { startWorker, useHarness } from './support.js';

/** What the callbacks saw: one entry per run, with ctx.batch as it was. */
function callbacks() {
  const seen = {
    then: [] as BatchContext[],
    catch: [] as BatchContext[],
    finally: [] as BatchContext[],
  };
  const make = (kind: keyof typeof seen) =>
    defineJob({
      name: `batch.${kind}`,
      handle(_p: unknown, ctx) {
        seen[kind].push(ctx.batch!);
      },
    });
  return { seen, then: make('then'), catch: make('catch'), finally: make('finally') };
}

function services(h: Harness, driver: QueueDriver = h.driver): WorkflowServices {
  return {
    db: async () => h.knex,
    dispatcher: new Dispatcher(async () => driver),
    connection: driver.connection,
  };
}

async function outcomes(h: Harness, id: string) {
  const rows = await listBatchOutcomes(h.knex, id, { limit: 10_000 });
  const count = { succeeded: 0, failed: 0, cancelled: 0 };
  for (const r of rows) count[r.outcome]++;
  return count;
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: batches`, () => {
    const harness = useHarness(d);

    it('runs then and finally once when every job succeeded, across two workers, with exact counts', async () => {
      const h = harness();
      const cb = callbacks();
      const ran = new Map<number, number>();
      const work = defineJob({
        name: 'batch.work',
        handle(p: { i: number }, ctx) {
          ran.set(p.i, (ran.get(p.i) ?? 0) + 1);
          expect(ctx.batch?.total).toBe(40);
        },
      });
      const jobs = [work, cb.then, cb.catch, cb.finally];
      const s = services(h);
      const { id, jobIds } = await batch(Array.from({ length: 40 }, (_, i) => step(work, { i })))
        .name('newsletter')
        .then(step(cb.then, {}))
        .catch(step(cb.catch, {}))
        .finally(step(cb.finally, {}))
        .dispatchTo({ db: h.knex, dispatcher: s.dispatcher, connection: undefined });
      expect(jobIds).toHaveLength(40);
      const other = await h.connect();
      startWorker(h, jobs, { concurrency: 4 }, h.driver, { workflow: s });
      startWorker(h, jobs, { concurrency: 4 }, other, { workflow: services(h, other) });
      await waitFor(() => cb.seen.finally.length === 1 && cb.seen.then.length === 1, {
        timeoutMs: 20_000,
        message: 'then and finally did not both run',
      });
      expect(ran.size).toBe(40);
      expect([...ran.values()].every((n) => n === 1)).toBe(true);
      expect(await findBatch(h.knex, id)).toMatchObject({
        name: 'newsletter',
        total: 40,
        pending: 0,
        failed: 0,
        failedJobIds: [],
        cancelledAt: null,
      });
      expect(await outcomes(h, id)).toEqual({ succeeded: 40, failed: 0, cancelled: 0 });
      expect(cb.seen.then[0]).toMatchObject({
        id,
        name: 'newsletter',
        total: 40,
        pending: 0,
        progress: 100,
      });
      expect(cb.seen.catch).toEqual([]);

      // Pushed again, as a worker that crashed before its settle would on its next run: the
      // copy ends skipped and then does not run twice.
      await pushCallbacks((await findBatch(h.knex, id))!, ['then', 'finally'], s);
      await waitFor(async () => (await h.driver.sizes(['default']))[0]!.pending === 0, {
        timeoutMs: 10_000,
        message: 'the pushed copies were not taken',
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(cb.seen.then).toHaveLength(1);
      expect(cb.seen.finally).toHaveLength(1);
    });

    it('runs catch once on the first failure, cancels the jobs not yet run, and runs finally; then never', async () => {
      const h = harness();
      const cb = callbacks();
      let runs = 0;
      const work = defineJob({
        name: 'batch.fails',
        tries: 1,
        handle(p: { i: number }) {
          runs++;
          if (p.i < 2) throw new Permanent(`job ${p.i} broke`);
        },
      });
      const s = services(h);
      const { id } = await batch(Array.from({ length: 20 }, (_, i) => step(work, { i })))
        .then(step(cb.then, {}))
        .catch(step(cb.catch, {}))
        .finally(step(cb.finally, {}))
        .dispatchTo({ db: h.knex, dispatcher: s.dispatcher, connection: undefined });
      startWorker(h, [work, cb.then, cb.catch, cb.finally], { concurrency: 1 }, h.driver, {
        workflow: s,
      });
      await waitFor(() => cb.seen.finally.length === 1, {
        timeoutMs: 20_000,
        message: 'no finally',
      });
      const row = (await findBatch(h.knex, id))!;
      expect(row.pending).toBe(0);
      expect(row.cancelledAt).not.toBeNull();
      const count = await outcomes(h, id);
      // The first job failed and cancelled the batch: the rest ended cancelled, unrun.
      expect(count).toEqual({ succeeded: 0, failed: 1, cancelled: 19 });
      expect(row).toMatchObject({ failed: 1, failedJobIds: [expect.any(String)] });
      expect(runs).toBe(1);
      await waitFor(() => cb.seen.catch.length === 1, { timeoutMs: 5_000, message: 'no catch' });
      expect(cb.seen.catch[0]).toMatchObject({ id });
      expect(cb.seen.then).toEqual([]);
    });

    it('with allowFailures runs every job, catch once, finally once, and not then', async () => {
      const h = harness();
      const cb = callbacks();
      const work = defineJob({
        name: 'batch.some-fail',
        tries: 2,
        backoff: 0,
        handle(p: { i: number }) {
          if (p.i % 4 === 0) throw new Error(`job ${p.i} broke`);
        },
      });
      const s = services(h);
      const { id, jobIds } = await batch(Array.from({ length: 12 }, (_, i) => step(work, { i })))
        .allowFailures()
        .then(step(cb.then, {}))
        .catch(step(cb.catch, {}))
        .finally(step(cb.finally, {}))
        .dispatchTo({ db: h.knex, dispatcher: s.dispatcher, connection: undefined });
      startWorker(h, [work, cb.then, cb.catch, cb.finally], { concurrency: 3 }, h.driver, {
        workflow: s,
      });
      await waitFor(() => cb.seen.finally.length === 1, {
        timeoutMs: 20_000,
        message: 'no finally',
      });
      const row = (await findBatch(h.knex, id))!;
      expect(row).toMatchObject({ total: 12, pending: 0, failed: 3, cancelledAt: null });
      // Retried attempts are not outcomes: each failing job counts once, after its 2 tries.
      expect([...row.failedJobIds].sort()).toEqual([jobIds[0], jobIds[4], jobIds[8]].sort());
      expect(await outcomes(h, id)).toEqual({ succeeded: 9, failed: 3, cancelled: 0 });
      await waitFor(() => cb.seen.catch.length === 1, { timeoutMs: 5_000, message: 'no catch' });
      expect(cb.seen.finally[0]).toMatchObject({ failed: 3, pending: 0, progress: 100 });
      expect(cb.seen.then).toEqual([]);
    });

    it('cancelling a batch ends its jobs not yet run as cancelled, without running them', async () => {
      const h = harness();
      const cb = callbacks();
      let runs = 0;
      const work = defineJob({
        name: 'batch.cancels',
        async handle(p: { i: number }, ctx) {
          runs++;
          if (p.i === 2) {
            await cancelBatch(h.knex, ctx.batch!.id, Date.now());
            expect(await ctx.batch!.cancelled()).toBe(true);
          }
        },
      });
      const s = services(h);
      const { id } = await batch(Array.from({ length: 20 }, (_, i) => step(work, { i })))
        .then(step(cb.then, {}))
        .finally(step(cb.finally, {}))
        .dispatchTo({ db: h.knex, dispatcher: s.dispatcher, connection: undefined });
      startWorker(h, [work, cb.then, cb.finally], { concurrency: 1 }, h.driver, { workflow: s });
      await waitFor(() => cb.seen.finally.length === 1, {
        timeoutMs: 20_000,
        message: 'no finally',
      });
      const count = await outcomes(h, id);
      expect(count.failed).toBe(0);
      expect(count.succeeded).toBe(runs);
      expect(count.succeeded + count.cancelled).toBe(20);
      // The worker learns of the cancel from the row it reads back with the cancelling job's
      // outcome; a database worker may have claimed (not run) the next job meanwhile.
      expect(runs).toBeGreaterThanOrEqual(3);
      expect(runs).toBeLessThanOrEqual(4);
      expect(cb.seen.then).toEqual([]);
      expect(await findBatch(h.knex, id)).toMatchObject({ pending: 0, failed: 0 });
    });

    it('ctx.batch.add adds jobs that count, and then waits for them', async () => {
      const h = harness();
      const cb = callbacks();
      const done: number[] = [];
      const work = defineJob({
        name: 'batch.grows',
        async handle(p: { i: number; more?: boolean }, ctx) {
          if (p.more) {
            const ids = await ctx.batch!.add([10, 11, 12].map((i) => step(work, { i })));
            expect(ids).toHaveLength(3);
          }
          done.push(p.i);
        },
      });
      const s = services(h);
      const { id } = await batch([step(work, { i: 0, more: true }), step(work, { i: 1 })])
        .then(step(cb.then, {}))
        .dispatchTo({ db: h.knex, dispatcher: s.dispatcher, connection: undefined });
      startWorker(h, [work, cb.then], { concurrency: 2 }, h.driver, { workflow: s });
      await waitFor(() => cb.seen.then.length === 1, { timeoutMs: 20_000, message: 'no then' });
      expect(done.sort((a, b) => a - b)).toEqual([0, 1, 10, 11, 12]);
      expect(cb.seen.then[0]).toMatchObject({ total: 5, pending: 0, progress: 100 });
      expect(await outcomes(h, id)).toEqual({ succeeded: 5, failed: 0, cancelled: 0 });
      // Once finished, the batch takes no more jobs.
      await expect(cb.seen.then[0]!.add([step(work, { i: 99 })])).rejects.toThrow(
        `Batch ${id} has finished (or was pruned): jobs cannot be added to it.`,
      );
    });
  });
}
