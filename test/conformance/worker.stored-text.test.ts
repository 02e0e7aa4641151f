import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { RetryAfter } from '../../src/jobs/errors.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { exitOf, failedJobs, pushOne, startWorker, useHarness, waitForFailed } from './support.js';

/*
 * A worker settles jobs whose errors the storage could not hold as they are (issue 11, item 1:
 * on PostgreSQL a NUL in the error made the settle fail, and the real error was lost), and whose
 * delays are fractional milliseconds (item 8).
 */

const thrower = (name: string, error: () => Error, tries = 1, backoff: number[] = [0]) =>
  defineJob({
    name,
    tries,
    backoff,
    async handle() {
      throw error();
    },
  });

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: worker and text the storage cannot hold`, () => {
    const harness = useHarness(d);

    it('records a handler’s error that holds NUL as the real error, reason error', async () => {
      const h = harness();
      await pushOne(h.driver, { name: 'nul', maxTries: 1 });
      const w = startWorker(h, [thrower('nul', () => new Error('bad\u0000byte'))], {
        stopWhenEmpty: true,
      });
      expect(await exitOf(w)).toBe(EXIT.OK);
      const failed = await waitForFailed(h);
      expect(failed.reason).toBe('error');
      expect(failed.exception.split('\n')[0]).toBe('Error: bad\\u0000byte');
      expect(w.of('job:failed').map((e) => e.reason)).toEqual(['error']);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('releases a job whose error holds NUL, keeping the error readable', async () => {
      const h = harness();
      const id = await pushOne(h.driver, { name: 'nul-retry', maxTries: 2 });
      const w = startWorker(
        h,
        [thrower('nul-retry', () => new Error('bad\u0000byte'), 2, [3_600])],
        {},
      );
      await waitFor(() => w.of('job:released').length === 1, { timeoutMs: 5_000 });
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'delayed', lastError: 'bad\\u0000byte' });
    });

    it('runs a job that asks to retry after a tenth of a millisecond, and one with a fractional backoff', async () => {
      const h = harness();
      let calls = 0;
      const tiny = defineJob({
        name: 'tiny',
        tries: 3,
        backoff: [0.0015],
        async handle() {
          calls++;
          if (calls === 1) throw new RetryAfter(0.0001);
          if (calls === 2) throw new Error('once more');
        },
      });
      await pushOne(h.driver, { name: 'tiny', maxTries: 3 });
      const w = startWorker(h, [tiny], { sleepMs: 20 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(calls).toBe(3);
      expect(w.of('job:released').map((e) => e.refunded)).toEqual([true, false]);
      expect(await failedJobs(h)).toEqual([]);
    });
  });
}
