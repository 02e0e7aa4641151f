import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { JobTimeoutError } from '../../src/jobs/errors.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { exitOf, failedJobs, pushOne, startWorker, useHarness } from './support.js';

/** A job that throws on every attempt and records them; its own policy is far from the queue's. */
function failing(name: string, queue: string) {
  const attempts: number[] = [];
  let reason: unknown;
  const job = defineJob({
    name,
    queue,
    tries: 5,
    backoff: [60],
    timeout: 60,
    handle(_payload: unknown, ctx) {
      attempts.push(ctx.attempt);
      return new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason;
          reject(new Error('aborted'));
        });
        setTimeout(() => reject(new Error(`boom ${ctx.attempt}`)), 50);
      });
    },
  });
  return { job, attempts, reason: () => reason };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: queue policies in the worker`, () => {
    const harness = useHarness(d);

    it("applies its queue's tries and backoff over the job's own and those stored with it", async () => {
      const h = harness();
      const p = failing('mail.send', 'mail');
      await pushOne(h.driver, { name: 'mail.send', queue: 'mail', maxTries: 5 });
      const w = startWorker(h, [p.job], {
        queues: ['mail'],
        sleepMs: 50,
        queuePolicies: new Map([['mail', { tries: 2, backoff: [0.2] }]]),
      });
      await waitFor(() => w.of('job:failed').length === 1, { timeoutMs: 5_000 });
      expect(p.attempts).toEqual([1, 2]);
      expect(w.of('job:released')[0]).toMatchObject({ delayMs: 200 });
      const [failed] = await failedJobs(h);
      expect(failed).toMatchObject({ name: 'mail.send', reason: 'error', attempts: 2 });
    });

    it("aborts a job at its queue's timeout, not the job's", async () => {
      const h = harness();
      const p = defineJob({
        name: 'slow',
        queue: 'mail',
        tries: 1,
        timeout: 60,
        handle: (_payload: unknown, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          ),
      });
      await pushOne(h.driver, { name: 'slow', queue: 'mail', maxTries: 1 });
      const w = startWorker(h, [p], {
        queues: ['mail'],
        stopWhenEmpty: true,
        queuePolicies: new Map([['mail', { timeoutMs: 300 }]]),
      });
      expect(await exitOf(w)).toBe(EXIT.OK);
      const [failed] = await failedJobs(h);
      expect(failed).toMatchObject({ name: 'slow', reason: 'timeout', attempts: 1 });
      expect(failed!.exception).toContain('JobTimeoutError: Job timed out after 0.3s');
      expect(w.of('job:failed')[0]!.durationMs).toBeLessThan(5_000);
    });

    it('lets the worker-wide --tries, --backoff and --timeout win over the queue', async () => {
      const h = harness();
      const p = failing('mail.send', 'mail');
      await pushOne(h.driver, { name: 'mail.send', queue: 'mail', maxTries: 5 });
      const w = startWorker(h, [p.job], {
        queues: ['mail'],
        sleepMs: 50,
        tries: 3,
        backoff: [0.1],
        timeoutMs: 20,
        queuePolicies: new Map([['mail', { tries: 1, backoff: [60], timeoutMs: 60_000 }]]),
      });
      await waitFor(() => w.of('job:failed').length === 1, { timeoutMs: 5_000 });
      expect(p.attempts).toEqual([1, 2, 3]);
      expect(p.reason()).toBeInstanceOf(JobTimeoutError);
      expect(w.of('job:released').map((e) => e.delayMs)).toEqual([100, 100]);
    });
  });
}
