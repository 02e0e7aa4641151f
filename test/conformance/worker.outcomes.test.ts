import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define.js';
import { JobTimeoutError, Permanent, RetryAfter } from '../../src/jobs/errors.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { EXIT } from '../../src/worker/options.js';
import { LEASE_LOST_ERROR } from '../../src/queue/driver.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import {
  claimWhenReady,
  exitOf,
  failedJobs,
  pushOne,
  sleep,
  startWorker,
  useHarness,
  waitForFailed,
} from './support.js';

/** A job that records each attempt and does what `behave` says. */
function probe(
  name: string,
  behave: (attempt: number, signal: AbortSignal) => unknown,
  options: { tries?: number; backoff?: number[]; timeout?: number } = {},
) {
  const attempts: Array<{ attempt: number; at: number }> = [];
  const failures: Array<{ payload: unknown; error: Error }> = [];
  const job = defineJob({
    name,
    tries: options.tries ?? 3,
    backoff: options.backoff ?? [0],
    timeout: options.timeout ?? 10,
    async handle(_payload: unknown, ctx) {
      attempts.push({ attempt: ctx.attempt, at: Date.now() });
      return behave(ctx.attempt, ctx.signal);
    },
    async failed(payload, error) {
      failures.push({ payload, error });
    },
  });
  return { job, attempts, failures };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: worker outcomes`, () => {
    const harness = useHarness(d);

    it('completes a job whose handler returns, and deletes it', async () => {
      const h = harness();
      const p = probe('ok', () => 'done');
      await pushOne(h.driver, { name: 'ok' });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(p.attempts.map((a) => a.attempt)).toEqual([1]);
      expect(w.of('job:processed')).toHaveLength(1);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('retries a throwing job with its backoff, then records it in failed_jobs with reason error', async () => {
      const h = harness();
      const p = probe(
        'flaky',
        (n) => {
          throw new Error(`boom ${n}`);
        },
        { tries: 3, backoff: [0.3, 0.5] },
      );
      const id = await pushOne(h.driver, { name: 'flaky', maxTries: 3, payload: '{"x":1}' });
      startWorker(h, [p.job], { sleepMs: 50 });
      const failed = await waitForFailed(h, 8_000);
      expect(p.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      const gaps = [p.attempts[1]!.at - p.attempts[0]!.at, p.attempts[2]!.at - p.attempts[1]!.at];
      expect(gaps[0]).toBeGreaterThanOrEqual(290);
      expect(gaps[1]).toBeGreaterThanOrEqual(490);
      expect(failed).toMatchObject({
        name: 'flaky',
        queue: 'default',
        payload: '{"x":1}',
        reason: 'error',
        attempts: 3,
        originalId: id,
        connection: h.driver.connection,
      });
      expect(failed.exception).toContain('Error: boom 3');
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('keeps the last error with a job released for a retry', async () => {
      const h = harness();
      const p = probe(
        'flaky',
        () => {
          throw new Error('try later');
        },
        { tries: 2, backoff: [60] },
      );
      await pushOne(h.driver, { name: 'flaky', maxTries: 2 });
      const w = startWorker(h, [p.job]);
      await waitFor(() => w.of('job:released').length === 1);
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ state: 'delayed', attempts: 1, lastError: 'try later' });
      expect(w.of('job:released')[0]).toMatchObject({ delayMs: 60_000, refunded: false });
    });

    it('runs failed() exactly once, with the payload and the final error', async () => {
      const h = harness();
      const p = probe(
        'flaky',
        (n) => {
          throw new Error(`boom ${n}`);
        },
        { tries: 2 },
      );
      await pushOne(h.driver, { name: 'flaky', maxTries: 2, payload: '{"userId":5}' });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      await sleep(100);
      expect(p.failures).toHaveLength(1);
      expect(p.failures[0]!.payload).toEqual({ userId: 5 });
      expect(p.failures[0]!.error.message).toBe('boom 2');
      expect(w.of('job:failed')).toHaveLength(1);
    });

    it('fails a Permanent error at once, without retries', async () => {
      const h = harness();
      const p = probe(
        'doomed',
        () => {
          throw new Permanent('account closed');
        },
        { tries: 5 },
      );
      await pushOne(h.driver, { name: 'doomed', maxTries: 5 });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(p.attempts).toHaveLength(1);
      const [failed] = await failedJobs(h);
      expect(failed).toMatchObject({ name: 'doomed', reason: 'error', attempts: 1 });
      expect(failed!.exception).toContain('Permanent: account closed');
      expect(p.failures).toHaveLength(1);
    });

    it('re-schedules a RetryAfter without spending an attempt', async () => {
      const h = harness();
      // One try only: if RetryAfter spent it, the job would fail instead of running again.
      const p = probe(
        'limited',
        (n) => {
          if (p.attempts.length < 3) throw new RetryAfter(0.2);
          return n;
        },
        { tries: 1 },
      );
      await pushOne(h.driver, { name: 'limited', maxTries: 1 });
      const w = startWorker(h, [p.job], { sleepMs: 50 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(p.attempts.map((a) => a.attempt)).toEqual([1, 1, 1]);
      expect(p.attempts[1]!.at - p.attempts[0]!.at).toBeGreaterThanOrEqual(190);
      expect(w.of('job:released').map((e) => [e.refunded, e.delayMs])).toEqual([
        [true, 200],
        [true, 200],
      ]);
      expect(await failedJobs(h)).toEqual([]);
    });

    it('does not count a put-back as a job done: --max-jobs 1 still runs the job', async () => {
      const h = harness();
      const p = probe(
        'limited.once',
        (n) => {
          if (p.attempts.length < 3) throw new RetryAfter(0.05);
          return n;
        },
        { tries: 1 },
      );
      await pushOne(h.driver, { name: 'limited.once', maxTries: 1 });
      const w = startWorker(h, [p.job], { sleepMs: 50, maxJobs: 1 });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('job:released')).toHaveLength(2);
      expect(w.of('job:processed')).toHaveLength(1);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'max-jobs', processed: 1 });
    });

    describe('fails a poison job at once with reason poison, other jobs unaffected', () => {
      const good = () => probe('good', () => 'ok');
      const strict = () =>
        defineJob({
          name: 'strict',
          schema: z.object({ userId: z.number() }),
          tries: 5,
          handle: () => {
            throw new Error('must not run');
          },
        });

      async function runWithPoison(
        poison: { name: string; payload: string },
        unconfigured: ReadonlyMap<string, string> = new Map(),
      ) {
        const h = harness();
        const ok = good();
        await pushOne(h.driver, { ...poison, maxTries: 5 });
        await pushOne(h.driver, { name: 'good' });
        const jobs = [ok.job, strict()];
        const w = startWorker(h, jobs, { stopWhenEmpty: true }, h.driver, {
          registry: new JobRegistry(jobs, unconfigured),
        });
        expect(await exitOf(w)).toBe(EXIT.OK);
        expect(ok.attempts).toHaveLength(1);
        expect(w.of('job:processed').map((e) => e.job.name)).toEqual(['good']);
        const rows = await failedJobs(h);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ ...poison, reason: 'poison', attempts: 1 });
        expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
        return rows[0]!.exception;
      }

      it('a payload that fails the schema', async () => {
        const exception = await runWithPoison({ name: 'strict', payload: '{"userId":"x"}' });
        expect(exception).toContain(
          'PoisonJobError: Invalid payload for strict: userId: Expected number, received string',
        );
      });

      it('an unknown job name', async () => {
        const exception = await runWithPoison({ name: 'nobody.knows', payload: '{}' });
        expect(exception).toContain(
          'PoisonJobError: Unknown job name "nobody.knows": no job with that name is registered',
        );
      });

      it("an integration's job on a worker not set up for it names what to set", async () => {
        const exception = await runWithPoison(
          { name: 'mail.send', payload: '{}' },
          new Map([['mail.send', 'set MAIL_URL (or MAIL_HOST) and MAIL_FROM in its environment']]),
        );
        expect(exception).toContain(
          'PoisonJobError: mail.send is a built-in job this worker is not set up for: set MAIL_URL (or MAIL_HOST) and MAIL_FROM in its environment, restart the worker, then retry the job with run queue:retry.',
        );
      });

      it('a payload that is not JSON', async () => {
        const exception = await runWithPoison({ name: 'strict', payload: 'not json' });
        expect(exception).toContain(
          'PoisonJobError: Unreadable payload for strict: not valid JSON',
        );
      });
    });

    it('fails a job claimed beyond its tries with "max attempts exceeded", without running it, and runs failed() once', async () => {
      const h = harness();
      const p = probe('crashy', () => 'ran');
      const id = await pushOne(h.driver, { name: 'crashy', maxTries: 1, payload: '{"userId":9}' });
      // A worker that ran it alone and died: the lease runs out with the attempt spent.
      const [held] = await h.driver.claim(['default'], 1, 300);
      expect(await h.driver.markAlone({ id, token: held!.token })).toBe(true);
      const w = startWorker(h, [p.job]);
      const failed = await waitForFailed(h, 5_000);
      expect(p.attempts).toEqual([]);
      expect(failed).toMatchObject({
        name: 'crashy',
        reason: 'max_attempts',
        attempts: 2,
        originalId: id,
      });
      expect(failed.exception).toContain('max attempts exceeded');
      // The cause is kept: why the last attempt ended.
      expect(failed.exception).toContain(LEASE_LOST_ERROR);
      // The worker's own verdict: no stack of jobsmith's frames.
      expect(failed.exception).not.toMatch(/\n\s+at /);
      // On redis the row is written before the job leaves Redis, and the event comes after.
      await waitFor(() => w.of('job:failed').length > 0);
      expect(w.of('job:failed').map((e) => e.reason)).toEqual(['max_attempts']);
      await waitFor(() => p.failures.length > 0);
      expect(p.failures).toHaveLength(1);
      expect(p.failures[0]!.payload).toEqual({ userId: 9 });
      expect(p.failures[0]!.error.message).toContain('max attempts exceeded');
    });

    it('aborts ctx.signal at the timeout and fails the last attempt with a timeout error', async () => {
      const h = harness();
      let reason: unknown;
      const p = probe(
        'slow',
        (_n, signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
              reject(new Error('aborted by signal'));
            });
          }),
        { tries: 1, timeout: 0.3 },
      );
      await pushOne(h.driver, { name: 'slow', maxTries: 1 });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(reason).toBeInstanceOf(JobTimeoutError);
      const [failed] = await failedJobs(h);
      expect(failed).toMatchObject({ name: 'slow', reason: 'timeout', attempts: 1 });
      expect(failed!.exception).toContain('JobTimeoutError: Job timed out after 0.3s');
      const [event] = w.of('job:failed');
      expect(event!.durationMs).toBeGreaterThanOrEqual(290);
      expect(event!.durationMs).toBeLessThan(2_000);
    });

    it('retries a timed-out attempt while tries remain', async () => {
      const h = harness();
      const p = probe(
        'slow-once',
        (n, signal) =>
          n === 1
            ? new Promise((resolve) => signal.addEventListener('abort', resolve))
            : 'fast now',
        { tries: 2, timeout: 0.3 },
      );
      await pushOne(h.driver, { name: 'slow-once', maxTries: 2 });
      const w = startWorker(h, [p.job], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(p.attempts.map((a) => a.attempt)).toEqual([1, 2]);
      const [released] = w.of('job:released');
      expect(released!.error).toBeInstanceOf(JobTimeoutError);
      expect(w.of('job:processed')).toHaveLength(1);
      expect(await failedJobs(h)).toEqual([]);
    });

    it('emits job:stuck and exits 13 when a handler ignores its abort; the job comes back a lease later, its cause kept', async () => {
      const h = harness();
      const p = probe('stubborn', () => sleep(1_500), { tries: 3, timeout: 0.2 });
      const id = await pushOne(h.driver, { name: 'stubborn', maxTries: 3 });
      const w = startWorker(h, [p.job], { leaseMs: 500, stuckGraceMs: 200 });
      expect(await exitOf(w, 5_000)).toBe(EXIT.STUCK);
      expect(w.of('job:stuck').map((e) => e.job.id)).toEqual([id]);
      expect(w.of('worker:stopped')[0]).toMatchObject({ reason: 'stuck', exitCode: EXIT.STUCK });
      // Not failed, and put back for one lease: nobody may take it meanwhile.
      expect(await failedJobs(h)).toEqual([]);
      expect(await h.driver.claim(['default'], 1, 5_000)).toEqual([]);
      const again = await claimWhenReady(h.driver, { leaseMs: 5_000 });
      // Its attempt counted, and its cause kept: not a lost lease, a timeout.
      expect(again).toMatchObject({ id, attempts: 2, isolate: false });
      expect(again.lastError).toContain('Job timed out after 0.2s');
    });
  });
}
