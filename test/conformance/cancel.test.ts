import { describe, expect, it } from 'vitest';
import { JobCancelledError } from '../../src/cancel/errors.js';
import { defineJob } from '../../src/jobs/define.js';
import type { WorkerEvents } from '../../src/worker/events.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { exitOf, failedJobs, pushOne, sleep, startWorker, useHarness } from './support.js';
import { EXIT } from '../../src/worker/options.js';

/** An id no job has, in the form the driver's ids take. */
const unknownId = (connection: string) => (connection === 'redis' ? 'default:999999' : '999999');

/**
 * A job that runs until the test lets it go: `until` says how it ends once its signal aborted
 * (or, ignoring the signal, once `release` is called).
 */
function holdingJob(name: string, until: 'signal' | 'release-return' | 'release-throw') {
  const state = {
    starts: 0,
    abortedAt: 0,
    reason: undefined as unknown,
    release: () => {},
  };
  const job = defineJob({
    name,
    tries: 3,
    backoff: [0],
    timeout: 30,
    async handle(_payload: unknown, ctx) {
      state.starts++;
      ctx.signal.addEventListener('abort', () => {
        state.abortedAt = Date.now();
        state.reason = ctx.signal.reason;
      });
      await new Promise<void>((resolve) => {
        state.release = resolve;
        if (until === 'signal') ctx.signal.addEventListener('abort', () => resolve());
      });
      if (until === 'signal') throw ctx.signal.reason;
      if (until === 'release-throw') throw new Error('ignored the cancel and failed anyway');
      return 'ignored the cancel';
    },
  });
  return { job, state };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: cancelling jobs`, () => {
    const harness = useHarness(d);

    it('cancel deletes pending and delayed jobs at once, returns them, frees their unique keys, and skips unknown ids', async () => {
      const h = harness();
      const unique = { key: 'c:1', forMs: 3_600_000 };
      const pending = await pushOne(h.driver, { name: 'c.pending', payload: '{"n":1}', unique });
      const delayed = await pushOne(h.driver, { name: 'c.delayed', delayMs: 3_600_000 });
      const kept = await pushOne(h.driver, { name: 'c.kept' });
      const unknown = [unknownId(h.driver.connection), 'nope'];
      const { removed, requested } = await h.driver.cancel([pending, ...unknown, delayed], 'test');
      expect(requested).toEqual([]); // unknown ids are in neither list
      expect(removed).toHaveLength(2);
      expect(removed[0]).toMatchObject({
        id: pending,
        name: 'c.pending',
        queue: 'default',
        state: 'pending',
        payload: '{"n":1}',
      });
      expect(removed[1]).toMatchObject({ id: delayed, name: 'c.delayed', state: 'delayed' });
      expect((await h.driver.list('default', undefined, 0, 10)).map((r) => r.id)).toEqual([kept]);
      const [claimed] = await h.driver.claim(['default'], 5, 5_000);
      expect(claimed?.id).toBe(kept);
      // Its unique key went with it.
      expect(await pushOne(h.driver, { unique })).not.toBe(pending);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 1, delayed: 0, reserved: 1 },
      ]);
    });

    it("a running job's signal aborts within about a second with JobCancelledError, and it ends cancelled: not failed, not run again", async () => {
      const h = harness();
      const { job, state } = holdingJob('c.running', 'signal');
      const id = await pushOne(h.driver, { name: 'c.running' });
      const w = startWorker(h, [job]);
      const cancelled: Array<WorkerEvents['job:cancelled'][0]> = [];
      w.worker.on('job:cancelled', (e) => cancelled.push(e));
      await waitFor(() => state.starts === 1, {
        timeoutMs: 5_000,
        message: 'the job never started',
      });

      // From another connection, as `run queue:cancel` in another process would.
      const other = await h.connect();
      const askedAt = Date.now();
      expect(await other.cancel([id], 'by the test: a duplicate')).toEqual({
        removed: [],
        requested: [id],
      });
      // The worker's connection reads the request, until the job ended and it was forgotten
      // (job:cancelled is emitted before the request is forgotten).
      const seen = await h.driver.cancelRequests([id, unknownId(h.driver.connection)]);
      if (cancelled.length === 0)
        expect(seen).toEqual([{ id, reason: 'by the test: a duplicate' }]);
      await waitFor(() => cancelled.length === 1, {
        timeoutMs: 5_000,
        message: 'the job did not end cancelled',
      });
      expect(state.abortedAt - askedAt).toBeLessThan(1_600);
      expect(state.reason).toBeInstanceOf(JobCancelledError);
      expect((state.reason as Error).message).toBe(
        `Job #${id} (c.running) was cancelled: by the test: a duplicate`,
      );
      expect(cancelled[0]).toMatchObject({ reason: 'by the test: a duplicate' });
      expect(cancelled[0]!.job.id).toBe(id);

      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
      expect(await h.driver.cancelRequests([id])).toEqual([]);
      w.worker.stop();
      expect(await exitOf(w)).toBe(0);
      expect(state.starts).toBe(1);
      expect(w.of('job:failed')).toEqual([]);
      expect(w.of('job:released')).toEqual([]);
      expect(w.of('job:processed')).toEqual([]);
      expect(await failedJobs(h)).toEqual([]);
    });

    it('a running job that ignores its signal still ends cancelled when it returns, or throws', async () => {
      const h = harness();
      const returns = holdingJob('c.returns', 'release-return');
      const throws = holdingJob('c.throws', 'release-throw');
      const ids = [
        await pushOne(h.driver, { name: 'c.returns' }),
        await pushOne(h.driver, { name: 'c.throws' }),
      ];
      const w = startWorker(h, [returns.job, throws.job], { concurrency: 2 });
      const cancelled: Array<WorkerEvents['job:cancelled'][0]> = [];
      w.worker.on('job:cancelled', (e) => cancelled.push(e));
      await waitFor(() => returns.state.starts === 1 && throws.state.starts === 1, {
        timeoutMs: 5_000,
        message: 'the jobs never started',
      });
      expect((await (await h.connect()).cancel(ids, 'stop')).requested).toEqual(ids);
      await waitFor(() => returns.state.abortedAt > 0 && throws.state.abortedAt > 0, {
        timeoutMs: 3_000,
        message: 'the signals never aborted',
      });
      expect(cancelled).toEqual([]); // they run on, ignoring the signal
      returns.state.release();
      throws.state.release();
      await waitFor(() => cancelled.length === 2, { timeoutMs: 5_000 });
      expect(cancelled.map((e) => e.job.id).sort()).toEqual([...ids].sort());
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
      w.worker.stop();
      expect(await exitOf(w)).toBe(0);
      expect([returns.state.starts, throws.state.starts]).toEqual([1, 1]);
      expect(w.of('job:failed')).toEqual([]);
      expect(w.of('job:released')).toEqual([]);
      expect(w.of('job:processed')).toEqual([]);
      expect(await failedJobs(h)).toEqual([]);
    });

    it('a cancelled job that ignores its signal past its timeout and grace ends cancelled, and the worker exits 13 as for a stuck job', async () => {
      const h = harness();
      let starts = 0;
      const job = defineJob({
        name: 'c.deaf',
        timeout: 2,
        async handle() {
          starts++;
          await sleep(4_000); // hears nothing
        },
      });
      const id = await pushOne(h.driver, { name: 'c.deaf' });
      const w = startWorker(h, [job], { stuckGraceMs: 200 });
      const cancelled: Array<WorkerEvents['job:cancelled'][0]> = [];
      w.worker.on('job:cancelled', (e) => cancelled.push(e));
      await waitFor(() => starts === 1, { timeoutMs: 5_000, message: 'the job never started' });
      expect((await (await h.connect()).cancel([id], 'stop')).requested).toEqual([id]);
      expect(await exitOf(w, 6_000)).toBe(EXIT.STUCK);
      expect(cancelled.map((e) => e.job.id)).toEqual([id]);
      expect(w.of('job:stuck').map((e) => e.job.id)).toEqual([id]);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
      expect(w.of('job:released')).toEqual([]);
      expect(await failedJobs(h)).toEqual([]);
    });
  });
}
