import { describe, expect, it, vi } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { requestRestart, setPaused } from '../../src/queue/control.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { exitOf, failedJobs, newJob, pushOne, sleep, startWorker, useHarness } from './support.js';

/** A job that takes `ms` (ignoring its abort signal unless `honourAbort`) and records its runs. */
function sleeper(name: string, ms: number, honourAbort = false) {
  const runs: Array<{ id: string; attempt: number; signal: AbortSignal; at: number }> = [];
  const job = defineJob({
    name,
    tries: 3,
    backoff: [0],
    timeout: 30,
    async handle(_payload: unknown, ctx) {
      runs.push({ id: ctx.jobId, attempt: ctx.attempt, signal: ctx.signal, at: Date.now() });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        if (honourAbort)
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
      });
    },
  });
  return { job, runs };
}

/**
 * Resolves as soon as the worker, having found nothing to claim, starts its idle wait: the
 * moment a push is most likely to be missed.
 */
function whenIdle(driver: QueueDriver): Promise<void> {
  return new Promise((resolve) => {
    const original = driver.waitForJobs.bind(driver);
    vi.spyOn(driver, 'waitForJobs').mockImplementation((...args) => {
      const waiting = original(...args);
      resolve();
      return waiting;
    });
  });
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: worker lifecycle`, () => {
    const harness = useHarness(d);

    it('renews the lease of a job five times longer than it, so no second worker claims it', async () => {
      const h = harness();
      const long = sleeper('long', 1_500);
      const id = await pushOne(h.driver, { name: 'long' });
      const a = startWorker(h, [long.job], { leaseMs: 300, sleepMs: 50 });
      await waitFor(() => long.runs.length === 1);
      const b = startWorker(h, [long.job], { leaseMs: 300, sleepMs: 50 }, await h.connect());
      await waitFor(() => a.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(long.runs.map((r) => [r.id, r.attempt])).toEqual([[id, 1]]);
      expect(b.of('job:processing')).toEqual([]);
      expect([...a.of('job:lost'), ...b.of('job:lost')]).toEqual([]);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('does not claim from a paused queue, and claims again once it is resumed', async () => {
      const h = harness();
      const mail = sleeper('mail', 0);
      const other = sleeper('other', 0);
      await setPaused(h.knex, ['mail'], true);
      await pushOne(h.driver, { name: 'mail', queue: 'mail' });
      await pushOne(h.driver, { name: 'other', queue: 'default' });
      // Strict order would take `mail` first if it were not paused.
      const w = startWorker(h, [mail.job, other.job], { queues: ['mail', 'default'] });
      await waitFor(() => other.runs.length === 1);
      await sleep(300);
      expect(mail.runs).toEqual([]);
      expect(await h.driver.sizes(['mail'])).toEqual([
        { queue: 'mail', pending: 1, delayed: 0, reserved: 0 },
      ]);
      await setPaused(h.knex, ['mail'], false);
      await waitFor(() => w.of('job:processed').length === 2, { timeoutMs: 3_000 });
      expect(mail.runs).toHaveLength(1);
    });

    it('stops claiming a queue paused while the worker runs', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      const w = startWorker(h, [job.job]);
      await waitFor(() => w.of('worker:started').length === 1);
      await setPaused(h.knex, ['default'], true);
      // Workers read the control state about once a second.
      await sleep(1_300);
      await pushOne(h.driver, { name: 'job' });
      await sleep(500);
      expect(job.runs).toEqual([]);
    });

    it('stops with reason restart after requestRestart, finishing its running job first', async () => {
      const h = harness();
      const job = sleeper('job', 500);
      await pushOne(h.driver, { name: 'job' });
      const w = startWorker(h, [job.job]);
      await waitFor(() => job.runs.length === 1);
      await requestRestart(h.knex);
      expect(await exitOf(w, 5_000)).toBe(EXIT.OK);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'restart', processed: 1 });
      expect(w.of('job:processed')).toHaveLength(1);
      expect(w.of('job:abandoned')).toEqual([]);
    });

    it('ignores a restart requested before the worker started', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      await requestRestart(h.knex);
      await sleep(5);
      const w = startWorker(h, [job.job]);
      await waitFor(() => w.of('worker:started').length === 1);
      await sleep(1_300);
      await pushOne(h.driver, { name: 'job' });
      await waitFor(() => job.runs.length === 1);
      expect(w.of('worker:stopping')).toEqual([]);
    });

    it('drains in-flight jobs on stop() within the grace and claims nothing new', async () => {
      const h = harness();
      const job = sleeper('job', 400);
      await h.driver.push([
        newJob({ name: 'job' }),
        newJob({ name: 'job' }),
        newJob({ name: 'job' }),
      ]);
      const w = startWorker(h, [job.job], { concurrency: 2, graceMs: 5_000 });
      await waitFor(() => job.runs.length === 2);
      w.worker.stop();
      expect(await exitOf(w, 5_000)).toBe(EXIT.OK);
      expect(w.of('job:processed')).toHaveLength(2);
      expect(w.of('job:abandoned')).toEqual([]);
      expect(job.runs).toHaveLength(2);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 1, delayed: 0, reserved: 0 },
      ]);
    });

    it('abandons in-flight jobs past the grace: aborted, released at once, the attempt counted', async () => {
      const h = harness();
      const job = sleeper('job', 3_000);
      const id = await pushOne(h.driver, { name: 'job' });
      const w = startWorker(h, [job.job], { graceMs: 200 });
      await waitFor(() => job.runs.length === 1);
      const stoppedAt = Date.now();
      w.worker.stop();
      expect(await exitOf(w, 5_000)).toBe(EXIT.OK);
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(190);
      expect(Date.now() - stoppedAt).toBeLessThan(2_000);
      expect(job.runs[0]!.signal.aborted).toBe(true);
      expect(w.of('job:abandoned').map((e) => e.job.id)).toEqual([id]);
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'pending', attempts: 1 });
      expect((await h.driver.claim(['default'], 1, 5_000))[0]).toMatchObject({ id, attempts: 2 });
    });

    it('releases in-flight jobs at once on a second stop()', async () => {
      const h = harness();
      const job = sleeper('job', 5_000);
      const id = await pushOne(h.driver, { name: 'job' });
      const w = startWorker(h, [job.job], { graceMs: 30_000 });
      await waitFor(() => job.runs.length === 1);
      const stoppedAt = Date.now();
      w.worker.stop();
      await sleep(100);
      w.worker.stop();
      expect(await exitOf(w, 5_000)).toBe(EXIT.OK);
      expect(Date.now() - stoppedAt).toBeLessThan(1_500);
      expect(w.of('job:abandoned').map((e) => e.job.id)).toEqual([id]);
      expect((await h.driver.list('default', undefined, 0, 10))[0]).toMatchObject({
        id,
        state: 'pending',
        attempts: 1,
      });
    });

    it('stops when the queues are empty with stopWhenEmpty', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      await h.driver.push([
        newJob({ name: 'job' }),
        newJob({ name: 'job' }),
        newJob({ name: 'job' }),
      ]);
      const w = startWorker(h, [job.job], { stopWhenEmpty: true, concurrency: 2 });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'empty', processed: 3 });
      expect(await h.driver.queues()).toEqual([]);
    });

    it('runs one job and stops with once', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      await h.driver.push([newJob({ name: 'job' }), newJob({ name: 'job' })]);
      const w = startWorker(h, [job.job], { once: true, concurrency: 4 });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'once', processed: 1 });
      expect(job.runs).toHaveLength(1);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 1, delayed: 0, reserved: 0 },
      ]);
    });

    it('stops once on an empty queue', async () => {
      const h = harness();
      const w = startWorker(h, [sleeper('job', 0).job], { once: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'once', processed: 0 });
    });

    it('stops after maxJobs jobs without claiming more', async () => {
      const h = harness();
      const job = sleeper('job', 50);
      await h.driver.push(Array.from({ length: 5 }, () => newJob({ name: 'job' })));
      const w = startWorker(h, [job.job], { maxJobs: 2, concurrency: 4 });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'max-jobs', processed: 2 });
      expect(job.runs).toHaveLength(2);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 3, delayed: 0, reserved: 0 },
      ]);
    });

    it("runs a higher queue's jobs before a lower queue's", async () => {
      const h = harness();
      const job = sleeper('job', 0);
      await h.driver.push([
        newJob({ name: 'job', queue: 'low', priority: 9 }),
        newJob({ name: 'job', queue: 'default' }),
        newJob({ name: 'job', queue: 'high' }),
        newJob({ name: 'job', queue: 'high' }),
      ]);
      const w = startWorker(h, [job.job], {
        queues: ['high', 'default', 'low'],
        stopWhenEmpty: true,
      });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('job:processing').map((e) => e.job.queue)).toEqual([
        'high',
        'high',
        'default',
        'low',
      ]);
    });

    // PostgreSQL wakes it through LISTEN/NOTIFY; SQLite by polling PRAGMA data_version.
    it('wakes an idle worker within a second when another connection pushes a job', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      const idle = whenIdle(h.driver);
      startWorker(h, [job.job], { sleepMs: 10_000 });
      await idle;
      const producer = await h.connect();
      const pushedAt = Date.now();
      await pushOne(producer, { name: 'job' });
      await waitFor(() => job.runs.length === 1, { timeoutMs: 3_000 });
      expect(job.runs[0]!.at - pushedAt).toBeLessThan(1_000);
    });

    it('wakes an idle worker within a second when its own driver pushes a job', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      const idle = whenIdle(h.driver);
      startWorker(h, [job.job], { sleepMs: 10_000 });
      await idle;
      const pushedAt = Date.now();
      await pushOne(h.driver, { name: 'job' });
      await waitFor(() => job.runs.length === 1, { timeoutMs: 3_000 });
      expect(job.runs[0]!.at - pushedAt).toBeLessThan(1_000);
    });

    it('records nothing in failed_jobs for jobs that succeed', async () => {
      const h = harness();
      const job = sleeper('job', 0);
      await h.driver.push(Array.from({ length: 20 }, () => newJob({ name: 'job' })));
      const w = startWorker(h, [job.job], { stopWhenEmpty: true, concurrency: 5 });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(new Set(job.runs.map((r) => r.id)).size).toBe(20);
      expect(job.runs).toHaveLength(20);
      expect(await failedJobs(h)).toEqual([]);
    });
  });
}
