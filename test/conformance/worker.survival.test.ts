/**
 * A worker survives its storage and its handlers (issue 11, item 5), on every driver: an
 * outcome the storage refuses is never reported as success; a job that is released and claimed
 * again at once does not starve the event loop; a fault a job's code leaves outside its promise
 * fails that job only; --stop-when-empty on paused queues says so.
 */
import { describe, expect, it, vi } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { Permanent, RetryAfter } from '../../src/jobs/errors.js';
import { setPaused } from '../../src/queue/control.js';
import type { ClaimedJob } from '../../src/queue/driver.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { exitOf, failedJobs, pushOne, sleep, startWorker, useHarness } from './support.js';

/** Releases for the spin test: far past what a starved event loop would allow. */
const SPIN_BOUND = 30_000;

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: worker survival`, () => {
    const harness = useHarness(d);

    it('stops with exit code 14 when the storage refuses a job outcome, and never reports it as done', async () => {
      const h = harness();
      const doomed = defineJob({
        name: 'doomed',
        tries: 1,
        async handle() {
          throw new Permanent('the real reason');
        },
      });
      const id = await pushOne(h.driver, { name: 'doomed', maxTries: 1 });
      // Waiting cannot bring the table back: the worker must not retry the write for ever.
      await h.knex.schema.dropTable('failed_jobs');
      const w = startWorker(h, [doomed], { stopWhenEmpty: true, leaseMs: 30_000 });

      expect(await exitOf(w)).toBe(EXIT.STORAGE);
      expect(w.of('job:failed')).toEqual([]);
      expect(w.of('job:lost')).toEqual([]);
      const [stopping] = w.of('worker:stopping');
      expect(stopping?.reason).toBe('storage');
      // The storage's name comes first, or the driver's own message (which names the file).
      expect(stopping?.error?.message).toMatch(
        new RegExp(`[Rr]ecording the failure of job #${id} \\(doomed\\)`),
      );
      expect(stopping?.error?.message).toContain(`The job's own error: "the real reason".`);
      expect(w.of('worker:stopped')).toEqual([
        { reason: 'storage', exitCode: EXIT.STORAGE, processed: 1 },
      ]);
      // Still held, under the lease of the attempt that could not be recorded.
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'reserved', attempts: 1 });
    });

    it('lets timers run while a job is released and claimed again at once, and stops on request', async () => {
      const h = harness();
      let runs = 0;
      let firedAtRun: number | undefined;
      let stopAt: number | undefined;
      // eslint-disable-next-line prefer-const
      let w: ReturnType<typeof startWorker>;
      const spin = defineJob({
        name: 'spin',
        async handle() {
          runs++;
          // A bound, so that a worker that never yields still ends the test.
          if (runs === SPIN_BOUND) w.worker.stop();
          throw new RetryAfter(0);
        },
      });
      await pushOne(h.driver, { name: 'spin' });
      w = startWorker(h, [spin], { sleepMs: 200 });
      await waitFor(() => runs > 0);
      // Armed while the job spins: fires only if the claim loop lets the event loop run.
      setTimeout(() => {
        firedAtRun = runs;
        stopAt = runs;
        w.worker.stop();
      }, 20);
      expect(await exitOf(w, 30_000)).toBe(EXIT.OK);
      expect(firedAtRun, 'the timer never fired while the job spun').toBeDefined();
      expect(firedAtRun!).toBeLessThan(SPIN_BOUND);
      // Stopped where the timer asked, not by the bound: the job ran at most once more.
      expect(runs - stopAt!).toBeLessThanOrEqual(1);
      expect(w.of('worker:stopped')[0]?.reason).toBe('signal');
      // The job is back in the queue, its attempt refunded each time.
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ name: 'spin', attempts: 0 });
    });

    it("an exception a job's code throws outside its promise fails that job's attempt and stops the worker (exit 15); the other job finishes", async () => {
      const h = harness();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = defineJob({
        name: 'slow',
        async handle() {
          await gate;
        },
      });
      const culprit = defineJob({
        name: 'culprit',
        tries: 1,
        async handle() {
          await new Promise(() => {}); // never settles: only the fault ends it
        },
      });
      const slowId = await pushOne(h.driver, { name: 'slow' });
      const culpritId = await pushOne(h.driver, { name: 'culprit', maxTries: 1 });
      const w = startWorker(h, [slow, culprit], { concurrency: 2 });
      await waitFor(() => w.of('job:processing').length === 2);
      const job = w.of('job:processing').find((e) => e.job.id === culpritId)!.job as ClaimedJob;

      // What handler-faults.ts does on 'uncaughtException' from the culprit's timer.
      w.worker.fault('exception', new Error('thrown from a timer'), job);
      await waitFor(() => w.of('job:failed').length === 1);
      release();

      expect(await exitOf(w)).toBe(EXIT.UNCAUGHT);
      expect(w.of('job:failed').map((e) => [e.job.id, e.reason, e.error.message])).toEqual([
        [culpritId, 'error', 'thrown from a timer'],
      ]);
      expect(w.of('job:processed').map((e) => e.job.id)).toEqual([slowId]);
      const [stopping] = w.of('worker:stopping');
      expect(stopping?.reason).toBe('uncaught');
      expect(stopping?.error?.message).toBe(
        `Job #${culpritId} (culprit) threw an exception outside its promise: thrown from a timer`,
      );
      const [failed] = await failedJobs(h);
      expect(failed?.exception).toContain('thrown from a timer');
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('untracked (a prefetching worker), an uncaught exception names the running jobs and charges none', async () => {
      const h = harness();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = defineJob({
        name: 'slow',
        async handle() {
          await gate;
        },
      });
      await pushOne(h.driver, { name: 'slow' });
      await pushOne(h.driver, { name: 'slow' });
      const w = startWorker(h, [slow], { concurrency: 2 });
      await waitFor(() => w.of('job:processing').length === 2);
      const names = w
        .of('job:processing')
        .map((e) => `#${e.job.id} (slow)`)
        .join(', ');
      w.worker.fault('exception', new Error('thrown from a timer'), undefined, false);
      release();

      expect(await exitOf(w)).toBe(EXIT.UNCAUGHT);
      expect(w.of('worker:stopping')[0]?.error?.message).toBe(
        `One of the running jobs (${names}) threw an exception outside its promise: thrown from a timer`,
      );
      expect(w.of('job:failed')).toEqual([]);
      expect(w.of('job:processed')).toHaveLength(2);
    });

    it('a rejection a job leaves unhandled is reported and the worker goes on', async () => {
      const h = harness();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const noop = defineJob({
        name: 'noop',
        async handle() {
          await gate;
        },
      });
      const id = await pushOne(h.driver, { name: 'noop' });
      const w = startWorker(h, [noop], { stopWhenEmpty: true });
      await waitFor(() => w.of('job:processing').length === 1);
      const job = w.of('job:processing')[0]!.job as ClaimedJob;
      // What handler-faults.ts does on 'unhandledRejection' from a promise the job started.
      w.worker.fault('rejection', new Error('left behind'), job);
      release();
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('job:processed').map((e) => e.job.id)).toEqual([id]);
      const errors = w.events.filter((e) => e.name === 'worker:error');
      // Taken out of the list the harness checks: this one is expected.
      errors.forEach((e) => w.events.splice(w.events.indexOf(e), 1));
      expect(
        errors.map((e) => {
          const data = e.data as { during: string; error: Error };
          return [data.during, data.error.message];
        }),
      ).toEqual([[`job #${id} (noop), a promise rejection nobody handled`, 'left behind']]);
    });

    it('an idle worker with a 30-day sleep and lease waits instead of spinning', async () => {
      const h = harness();
      const noop = defineJob({ name: 'noop', async handle() {} });
      const claims = vi.spyOn(h.driver, 'claim');
      const DAYS_30 = 30 * 86_400_000;
      const w = startWorker(h, [noop], { sleepMs: DAYS_30, leaseMs: DAYS_30 });
      await waitFor(() => claims.mock.calls.length >= 1);
      await sleep(500);
      // Past Node's longest timer (24.8 days) a timer fires after 1 ms: hundreds of claims.
      expect(claims.mock.calls.length).toBeLessThanOrEqual(3);
      w.worker.stop();
      expect(await exitOf(w)).toBe(EXIT.OK);
    });

    it('with stopWhenEmpty and its queue paused with jobs waiting, stops saying the queue is paused', async () => {
      const h = harness();
      const noop = defineJob({ name: 'noop', async handle() {} });
      await pushOne(h.driver, { name: 'noop' });
      await pushOne(h.driver, { name: 'noop', delayMs: 60_000 });
      await setPaused(h.knex, ['default'], true);
      const w = startWorker(h, [noop], { stopWhenEmpty: true, queues: ['default', 'other'] });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('worker:stopping')).toEqual([
        { reason: 'paused', paused: { queues: ['default'], waiting: 2 } },
      ]);
      expect(w.of('job:processing')).toEqual([]);
    });
  });
}
