import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import type { ClaimedJob, QueueDriver } from '../../src/queue/driver.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { newJob, sleep, startWorker, useHarness } from './support.js';

const LEASE = 60_000;

async function pushMany(driver: QueueDriver, queue: string, n: number): Promise<void> {
  await driver.push(Array.from({ length: n }, () => newJob({ queue, name: `${queue}.job` })));
}

const countBy = (jobs: ClaimedJob[]) =>
  jobs.reduce<Record<string, number>>((m, j) => ({ ...m, [j.queue]: (m[j.queue] ?? 0) + 1 }), {});

/** A job that records how many of its queue run at once, and the most seen. */
function tracked(queue: string, ms = 80) {
  const state = { now: 0, most: 0, done: 0 };
  const job = defineJob({
    name: `${queue}.job`,
    queue,
    async handle() {
      state.most = Math.max(state.most, ++state.now);
      await sleep(ms);
      state.now--;
      state.done++;
    },
  });
  return { job, state };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: concurrency caps`, () => {
    const harness = useHarness(d);

    it('claims no more of a queue than its per-queue limit, and the rest from the next queue', async () => {
      const { driver } = harness();
      await pushMany(driver, 'a', 4);
      await pushMany(driver, 'b', 4);
      const perQueue = new Map([['a', 2]]);
      const jobs = await driver.claim(['a', 'b'], 5, LEASE, { perQueue });
      expect(countBy(jobs)).toEqual({ a: 2, b: 3 });
      // Strict order still holds among the queues that may give jobs: a's come first.
      expect(jobs.map((j) => j.queue)).toEqual(['a', 'a', 'b', 'b', 'b']);
    });

    it('skips a queue whose per-queue limit is 0', async () => {
      const { driver } = harness();
      await pushMany(driver, 'a', 2);
      await pushMany(driver, 'b', 2);
      const perQueue = new Map([
        ['a', 0],
        ['b', 1],
      ]);
      expect(countBy(await driver.claim(['a', 'b'], 5, LEASE, { perQueue }))).toEqual({ b: 1 });
    });

    it('never holds more jobs of a globally capped queue than the cap, across two connections claiming at once', async () => {
      const h = harness();
      const other = await h.connect();
      const globalConcurrency = new Map([['g', 3]]);
      // Rounds of claims at once, each on a queue of its own: two that counted the held jobs
      // before either claimed would both take places.
      for (let round = 1; round <= 10; round++) {
        const queue = `r${round}`;
        await pushMany(h.driver, queue, 12);
        const caps = { globalConcurrency: new Map([[queue, 3]]) };
        const claims = Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? other : h.driver).claim([queue], 2, LEASE, caps),
        );
        expect((await Promise.all(claims)).flat(), `round ${round}`).toHaveLength(3);
      }
      await pushMany(h.driver, 'g', 12);
      const jobs = await h.driver.claim(['g'], 5, LEASE, { globalConcurrency });
      expect(jobs).toHaveLength(3);
      expect(await other.claim(['g'], 5, LEASE, { globalConcurrency })).toEqual([]);
      // A completion frees one place, for one job.
      expect(await h.driver.complete([jobs[0]!])).toEqual([jobs[0]!.id]);
      const next = await waitFor(
        async () => {
          const got = await other.claim(['g'], 5, LEASE, { globalConcurrency });
          return got.length > 0 ? got : false;
        },
        { timeoutMs: 3_000, message: 'no place freed' },
      );
      expect(next).toHaveLength(1);
      expect(await h.driver.claim(['g'], 5, LEASE, { globalConcurrency })).toEqual([]);
    });

    it('does not count jobs whose lease ran out against the cap', async () => {
      const h = harness();
      await pushMany(h.driver, 'g', 4);
      const globalConcurrency = new Map([['g', 2]]);
      const held = await h.driver.claim(['g'], 4, 300, { globalConcurrency });
      expect(held).toHaveLength(2);
      expect(await h.driver.claim(['g'], 4, LEASE, { globalConcurrency })).toEqual([]);
      // The holder died: once its leases run out, two jobs may be claimed again.
      const other = await h.connect();
      const back: ClaimedJob[] = [];
      await waitFor(
        async () => {
          back.push(...(await other.claim(['g'], 4, LEASE, { globalConcurrency })));
          return back.length >= 2;
        },
        { timeoutMs: 5_000, intervalMs: 50, message: 'expired leases still counted' },
      );
      expect(back).toHaveLength(2);
      expect(await other.claim(['g'], 4, LEASE, { globalConcurrency })).toEqual([]);
    });

    it('leaves a claim without caps unlimited', async () => {
      const { driver } = harness();
      await pushMany(driver, 'g', 4);
      const globalConcurrency = new Map([['g', 1]]);
      expect(await driver.claim(['g'], 4, LEASE, { globalConcurrency })).toHaveLength(1);
      // On Redis the queue's cap is removed by a worker that has none (the last one decides).
      expect(await driver.claim(['g'], 4, LEASE)).toHaveLength(3);
    });

    it('runs no more of a queue at once than its concurrency in a worker of several queues', async () => {
      const h = harness();
      const a = tracked('a');
      const b = tracked('b');
      await pushMany(h.driver, 'a', 8);
      await pushMany(h.driver, 'b', 8);
      const w = startWorker(h, [a.job, b.job], {
        queues: ['a', 'b'],
        concurrency: 10,
        queuePolicies: new Map([
          ['a', { concurrency: 2 }],
          ['b', { concurrency: 3 }],
        ]),
      });
      await waitFor(() => a.state.done === 8 && b.state.done === 8, {
        timeoutMs: 15_000,
        message: 'the jobs did not all run',
      });
      expect(a.state.most).toBe(2);
      expect(b.state.most).toBe(3);
      expect(w.of('worker:started')[0]!.caps).toEqual({ perQueue: { a: 2, b: 3 } });
    });

    it('runs no more jobs of a globally capped queue at once than its cap across two workers', async () => {
      const h = harness();
      const g = tracked('g', 100);
      await pushMany(h.driver, 'g', 12);
      const options = {
        queues: ['g'],
        concurrency: 3,
        queuePolicies: new Map([['g', { globalConcurrency: 2 }]]),
      };
      startWorker(h, [g.job], options);
      startWorker(h, [g.job], options, await h.connect());
      await waitFor(() => g.state.done === 12, {
        timeoutMs: 20_000,
        message: 'the jobs did not all run',
      });
      expect(g.state.most).toBe(2);
    });
  });
}
