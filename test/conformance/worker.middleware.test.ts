/**
 * Job middleware (issue 12) on every driver: the chain runs in order around the handler, a
 * middleware's outcome is a handler's outcome (RetryAfter refunds the attempt, Permanent fails
 * at once), skipIf drops a job as skipped, and a second next() is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define.js';
import { Permanent, RetryAfter } from '../../src/jobs/errors.js';
import { skipIf } from '../../src/jobs/middleware.js';
import type { JobMiddleware, MiddlewareContext } from '../../src/jobs/types.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers, type Harness } from './drivers.js';
import { exitOf, failedJobs, pushOne, startWorker, useHarness, waitForFailed } from './support.js';

/** A job with `middleware` whose handler records each run (its attempt) and returns `result`. */
function guarded(
  name: string,
  middleware: JobMiddleware<{ n: number }>[],
  options: { tries?: number; backoff?: number[]; result?: unknown } = {},
) {
  const runs: number[] = [];
  const failures: Error[] = [];
  const job = defineJob({
    name,
    schema: z.object({ n: z.number() }),
    tries: options.tries ?? 3,
    backoff: options.backoff ?? [0],
    middleware,
    handle(_payload, ctx) {
      runs.push(ctx.attempt);
      return options.result;
    },
    failed(_payload, error) {
      failures.push(error);
    },
  });
  return { job, runs, failures };
}

/** The jobs still on queue `default`, waiting or delayed. */
const queued = (h: Harness) => h.driver.list('default', undefined, 0, 10);

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: job middleware`, () => {
    const harness = useHarness(d);

    it('runs the chain in order around the handler, next() giving the handler’s result', async () => {
      const h = harness();
      const trail: string[] = [];
      const seen: Array<Omit<MiddlewareContext<{ n: number }>, 'log' | 'dispatch' | 'progress'>> =
        [];
      const around =
        (tag: string): JobMiddleware<{ n: number }> =>
        async (ctx, next) => {
          trail.push(`${tag}:before`);
          const result = await next();
          trail.push(`${tag}:after ${String(result)}`);
          return result;
        };
      const look: JobMiddleware<{ n: number }> = (ctx, next) => {
        const { name, jobId, queue, attempt, payload, signal } = ctx;
        seen.push({ name, jobId, queue, attempt, payload, signal });
        return next();
      };
      const p = guarded('chained', [around('a'), look, around('b')], { result: 'sent' });
      const id = await pushOne(h.driver, { name: 'chained', payload: '{"n":7}' });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(trail).toEqual(['a:before', 'b:before', 'b:after sent', 'a:after sent']);
      expect(p.runs).toEqual([1]);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        name: 'chained',
        jobId: id,
        queue: 'default',
        attempt: 1,
        payload: { n: 7 },
      });
      expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
      expect(w.of('job:processed')).toHaveLength(1);
      expect(await queued(h)).toEqual([]);
    });

    it('completes a job whose middleware returns without calling next(), its handler not run', async () => {
      const h = harness();
      const p = guarded('short', [() => 'handled here']);
      await pushOne(h.driver, { name: 'short', payload: '{"n":1}' });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(p.runs).toEqual([]);
      expect(w.of('job:processed')).toHaveLength(1);
      expect(w.of('job:skipped')).toEqual([]);
      expect(await failedJobs(h)).toEqual([]);
      expect(await queued(h)).toEqual([]);
    });

    it('retries a job whose middleware throws, with the job’s backoff', async () => {
      const h = harness();
      const p = guarded(
        'guarded',
        [
          (ctx, next) => {
            if (ctx.attempt === 1) throw new Error('not yet');
            return next();
          },
        ],
        { tries: 2 },
      );
      await pushOne(h.driver, { name: 'guarded', payload: '{"n":1}', maxTries: 2 });
      const w = startWorker(h, [p.job], { sleepMs: 50 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(p.runs).toEqual([2]);
      expect(w.of('job:released').map((e) => [e.error.message, e.refunded])).toEqual([
        ['not yet', false],
      ]);
    });

    it('puts a job back without spending an attempt when its middleware throws RetryAfter', async () => {
      const h = harness();
      // One try only: had RetryAfter spent it, the next claim would be attempt 2, past its tries.
      const attempts: number[] = [];
      const p = guarded(
        'limited',
        [
          (ctx, next) => {
            attempts.push(ctx.attempt);
            if (attempts.length < 3) throw new RetryAfter(0.2);
            return next();
          },
        ],
        { tries: 1 },
      );
      await pushOne(h.driver, { name: 'limited', payload: '{"n":1}', maxTries: 1 });
      const w = startWorker(h, [p.job], { sleepMs: 50 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(attempts).toEqual([1, 1, 1]);
      expect(p.runs).toEqual([1]);
      expect(w.of('job:released').map((e) => [e.refunded, e.delayMs])).toEqual([
        [true, 200],
        [true, 200],
      ]);
      expect(await failedJobs(h)).toEqual([]);
    });

    it('fails a job at once when its middleware throws Permanent, its handler not run', async () => {
      const h = harness();
      const p = guarded(
        'forbidden',
        [
          () => {
            throw new Permanent('user 1 may not send');
          },
        ],
        { tries: 5 },
      );
      await pushOne(h.driver, { name: 'forbidden', payload: '{"n":1}', maxTries: 5 });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      const failed = await waitForFailed(h);
      expect(failed).toMatchObject({ name: 'forbidden', reason: 'error', attempts: 1 });
      expect(failed.exception).toContain('Permanent: user 1 may not send');
      expect(p.runs).toEqual([]);
      expect(p.failures.map((e) => e.message)).toEqual(['user 1 may not send']);
    });

    it('drops a job skipIf says no longer needs to run: deleted, reported skipped, never failed', async () => {
      const h = harness();
      const p = guarded('digest', [
        skipIf(async (payload) => payload.n === 0 || (payload.n < 0 && 'user unsubscribed')),
      ]);
      await pushOne(h.driver, { name: 'digest', payload: '{"n":0}' });
      await pushOne(h.driver, { name: 'digest', payload: '{"n":-1}' });
      await pushOne(h.driver, { name: 'digest', payload: '{"n":5}' });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(p.runs).toEqual([1]);
      expect(w.of('job:skipped').map((e) => [JSON.parse(e.job.payload), e.reason])).toEqual([
        [{ n: 0 }, undefined],
        [{ n: -1 }, 'user unsubscribed'],
      ]);
      expect(w.of('job:processed').map((e) => e.job.payload)).toEqual(['{"n":5}']);
      expect(w.of('job:failed')).toEqual([]);
      expect(p.failures).toEqual([]);
      expect(await failedJobs(h)).toEqual([]);
      expect(await queued(h)).toEqual([]);
    });

    it('fails the job with MiddlewareNextError when a middleware calls next() twice', async () => {
      const h = harness();
      const p = guarded(
        'twice',
        [
          (_ctx, next) => next(),
          async (_ctx, next) => {
            await next();
            return next();
          },
        ],
        { tries: 3 },
      );
      await pushOne(h.driver, { name: 'twice', payload: '{"n":1}', maxTries: 3 });
      startWorker(h, [p.job], { stopWhenEmpty: true });
      const failed = await waitForFailed(h);
      expect(failed).toMatchObject({ name: 'twice', reason: 'error', attempts: 1 });
      expect(failed.exception.split('\n')[0]).toBe(
        'MiddlewareNextError: Job twice: middleware[1] called next() more than once; call it once and await (or return) its result.',
      );
      expect(p.runs).toEqual([1]);
    });
  });
}
