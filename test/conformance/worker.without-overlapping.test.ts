/**
 * withoutOverlapping (issue 12) run by workers on every driver: jobs with the same key never
 * run at the same time, even on two workers with their own connections (two processes); a job
 * that finds its key held is put back without spending an attempt, until the holder's lease
 * would run out at the latest; the lock is freed when the handler ends, even by an error.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withoutOverlapping } from '../../src/flow/locks/middleware.js';
import type { WithoutOverlappingOptions } from '../../src/flow/locks/middleware.js';
import { defineJob } from '../../src/jobs/define.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import {
  failedJobs,
  pushOne,
  sleep,
  startWorker,
  useHarness,
  type RunningWorker,
} from './support.js';

interface Run {
  key: string;
  id: string;
  attempt: number;
  start: number;
  end: number;
}

/** A job (tries 1) locked per `key` (or per name, with `perName`) that holds it for `ms`. */
function lockedJob(
  name: string,
  options: WithoutOverlappingOptions & { ms?: number; perName?: boolean; failFirst?: boolean },
) {
  const runs: Run[] = [];
  const { ms = 300, perName, failFirst, ...lock } = options;
  const job = defineJob({
    name,
    schema: z.object({ key: z.string() }),
    tries: failFirst ? 2 : 1,
    backoff: [0],
    middleware: [
      perName ? withoutOverlapping(undefined, lock) : withoutOverlapping((p) => p.key, lock),
    ],
    async handle(payload, ctx) {
      const run = {
        key: payload.key,
        id: ctx.jobId,
        attempt: ctx.attempt,
        start: Date.now(),
        end: 0,
      };
      runs.push(run);
      await sleep(ms);
      run.end = Date.now();
      if (failFirst && ctx.attempt === 1) throw new Error('first attempt fails');
    },
  });
  return { job, runs };
}

/** Runs of `key` that overlap in time (a pair each). */
function overlaps(runs: Run[], key: string): Array<[Run, Run]> {
  const mine = runs.filter((r) => r.key === key).sort((a, b) => a.start - b.start);
  const pairs: Array<[Run, Run]> = [];
  for (let i = 1; i < mine.length; i++) {
    if (mine[i]!.start < mine[i - 1]!.end) pairs.push([mine[i - 1]!, mine[i]!]);
  }
  return pairs;
}

const processed = (workers: RunningWorker[]) =>
  workers.reduce((n, w) => n + w.of('job:processed').length, 0);
const released = (workers: RunningWorker[]) => workers.flatMap((w) => w.of('job:released'));

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: withoutOverlapping in workers`, () => {
    const harness = useHarness(d);

    it('never runs two jobs of one key at once on two workers, and the put-back ones spend no attempt', async () => {
      const h = harness();
      const { job, runs } = lockedJob('account.sync', { releaseAfter: '200ms' });
      for (const key of ['x', 'x', 'x', 'y']) {
        await pushOne(h.driver, {
          name: 'account.sync',
          payload: JSON.stringify({ key }),
          maxTries: 1,
        });
      }
      const other = await h.connect();
      const workers = [
        startWorker(h, [job], { concurrency: 2, sleepMs: 50 }),
        startWorker(h, [job], { concurrency: 2, sleepMs: 50 }, other),
      ];
      await waitFor(() => processed(workers) === 4, { timeoutMs: 15_000 });

      expect(overlaps(runs, 'x')).toEqual([]);
      expect(runs.map((r) => r.key).sort()).toEqual(['x', 'x', 'x', 'y']);
      // Had a put-back spent an attempt, a job of one try would have failed instead of running.
      expect(runs.map((r) => r.attempt)).toEqual([1, 1, 1, 1]);
      expect(await failedJobs(h)).toEqual([]);
      const backs = released(workers);
      expect(backs.length).toBeGreaterThan(0);
      for (const back of backs) {
        expect(JSON.parse(back.job.payload)).toEqual({ key: 'x' });
        expect(back.refunded).toBe(true);
        expect(back.delayMs).toBeGreaterThan(0);
        expect(back.delayMs).toBeLessThanOrEqual(200);
        expect(back.error.message).toMatch(
          /^withoutOverlapping: "account\.sync#x" is held by another job; trying again in \d+ms$/,
        );
      }
      expect(await h.driver.flow().locks.list()).toEqual([]);
    });

    it('without keyOf, runs one job of the name at a time', async () => {
      const h = harness();
      const { job, runs } = lockedJob('report.build', { perName: true, releaseAfter: '200ms' });
      for (const key of ['a', 'b']) {
        await pushOne(h.driver, {
          name: 'report.build',
          payload: JSON.stringify({ key }),
          maxTries: 1,
        });
      }
      const workers = [
        startWorker(h, [job], { sleepMs: 50 }),
        startWorker(h, [job], { sleepMs: 50 }, await h.connect()),
      ];
      await waitFor(() => processed(workers) === 2, { timeoutMs: 10_000 });
      const [first, second] = [...runs].sort((a, b) => a.start - b.start);
      expect(second!.start).toBeGreaterThanOrEqual(first!.end);
      expect(released(workers).map((e) => e.error.message.split(';')[0])).toContain(
        'withoutOverlapping: "report.build" is held by another job',
      );
    });

    it('frees the lock when the handler throws, so its retry takes it at once', async () => {
      const h = harness();
      const { job, runs } = lockedJob('flaky', { failFirst: true, ms: 10 });
      await pushOne(h.driver, { name: 'flaky', payload: '{"key":"k"}', maxTries: 2 });
      const w = startWorker(h, [job], { sleepMs: 50 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 5_000 });
      expect(runs.map((r) => r.attempt)).toEqual([1, 2]);
      expect(w.of('job:released').map((e) => [e.error.message, e.refunded])).toEqual([
        ['first attempt fails', false],
      ]);
      expect(await h.driver.flow().locks.list()).toEqual([]);
    });

    it('puts a job back until the lease of a holder that stopped renewing runs out, then runs it', async () => {
      const h = harness();
      // A holder that died: its lock is never renewed nor released.
      const leaseMs = 1_500;
      const before = Date.now();
      const dead = await h.driver.flow().locks.acquire('orphan#k', 'dead-holder', leaseMs);
      expect(dead).toEqual({ acquired: true });
      // releaseAfter longer than the lease: the job must come back when the lease ends.
      const { job, runs } = lockedJob('orphan', { releaseAfter: '30s', ms: 10 });
      await pushOne(h.driver, { name: 'orphan', payload: '{"key":"k"}', maxTries: 1 });
      const w = startWorker(h, [job], { sleepMs: 5_000 });
      await waitFor(() => w.of('job:processed').length === 1, { timeoutMs: 10_000 });

      expect(runs).toHaveLength(1);
      expect(runs[0]!.start).toBeGreaterThanOrEqual(before + leaseMs);
      const backs = w.of('job:released');
      expect(backs.length).toBeGreaterThan(0);
      for (const back of backs) {
        expect(back.refunded).toBe(true);
        expect(back.delayMs).toBeLessThanOrEqual(leaseMs);
      }
      expect(await failedJobs(h)).toEqual([]);
    });
  });
}
