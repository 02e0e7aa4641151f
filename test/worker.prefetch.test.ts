import { describe, expect, it, vi } from 'vitest';
import { defineJob } from '../src/jobs/define.js';
import { waitFor } from './helpers/wait.js';
import { drivers } from './conformance/drivers.js';
import { exitOf, newJob, startWorker, useHarness } from './conformance/support.js';

/** A job that records its runs and waits for `gate` (if set) before finishing. */
function recorder() {
  const runs: Array<{ id: string; attempt: number }> = [];
  let gate: Promise<void> | undefined;
  let open = () => {};
  const job = defineJob({
    name: 'prefetch.rec',
    tries: 1,
    async handle(_payload: unknown, ctx) {
      runs.push({ id: ctx.jobId, attempt: ctx.attempt });
      await gate;
    },
  });
  return {
    job,
    runs,
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release: () => open(),
  };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: worker prefetch`, () => {
    const harness = useHarness(d);

    it('claims ahead and still runs every job exactly once', async () => {
      const h = harness();
      const rec = recorder();
      const ids = (
        await h.driver.push(Array.from({ length: 30 }, () => newJob({ name: 'prefetch.rec' })))
      ).map((r) => r.id);
      const claim = h.driver.claim.bind(h.driver);
      const calls: Array<{ limit: number; got: number }> = [];
      vi.spyOn(h.driver, 'claim').mockImplementation(async (queues, limit, leaseMs) => {
        const jobs = await claim(queues, limit, leaseMs);
        calls.push({ limit, got: jobs.length });
        return jobs;
      });
      const w = startWorker(h, [rec.job], { prefetch: 8, stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(0);
      // Order is first in, first out on the SQL drivers; the redis driver also hands over jobs
      // fetched with completions, so only "each exactly once" holds for every driver.
      expect(rec.runs.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(rec.runs.every((r) => r.attempt === 1)).toBe(true);
      expect(calls[0]?.limit).toBe(9);
      // Claims that found jobs, one per job without prefetch: with it, a handful. Empty claims
      // while the last jobs settle depend on the machine's speed, so they are not counted.
      expect(calls.filter((c) => c.got > 0).length).toBeLessThan(10);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 0, delayed: 0, reserved: 0 },
      ]);
    });

    it('tops its buffer up before it runs dry, never holding more than concurrency + prefetch', async () => {
      const h = harness();
      let finished = 0;
      const counted = defineJob({
        name: 'prefetch.rec',
        tries: 1,
        handle: async () => void finished++,
      });
      await h.driver.push(Array.from({ length: 60 }, () => newJob({ name: 'prefetch.rec' })));
      const claim = h.driver.claim.bind(h.driver);
      let claimed = 0;
      const calls: Array<{ held: number; limit: number }> = [];
      vi.spyOn(h.driver, 'claim').mockImplementation(async (queues, limit, leaseMs) => {
        // Held: claimed and not yet finished, i.e. running or waiting in the buffer.
        calls.push({ held: claimed - finished, limit });
        const jobs = await claim(queues, limit, leaseMs);
        claimed += jobs.length;
        return jobs;
      });
      const w = startWorker(h, [counted], { concurrency: 2, prefetch: 10, stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(0);
      expect(finished).toBe(60);
      expect(calls[0]).toEqual({ held: 0, limit: 12 });
      // Every later claim was made while jobs were still held, and never took more than fits.
      const refills = calls.slice(1).filter((c) => c.held > 0);
      expect(refills.length).toBeGreaterThan(0);
      expect(
        calls.every((c) => c.held + c.limit <= 12),
        JSON.stringify(calls),
      ).toBe(true);
    });

    it('gives back the jobs it claimed ahead when it stops, attempt refunded', async () => {
      const h = harness();
      const rec = recorder();
      rec.hold();
      await h.driver.push(Array.from({ length: 6 }, () => newJob({ name: 'prefetch.rec' })));
      const w = startWorker(h, [rec.job], { prefetch: 4 });
      await waitFor(() => rec.runs.length === 1);
      w.worker.stop();
      rec.release();
      expect(await exitOf(w)).toBe(0);
      expect(rec.runs).toHaveLength(1);
      const left = await h.driver.list('default', undefined, 0, 10);
      expect(left).toHaveLength(5);
      expect(left.every((j) => j.state === 'pending' && j.attempts === 0)).toBe(true);
    });

    it('does not claim ahead on several queues, so strict queue order holds', async () => {
      const h = harness();
      const rec = recorder();
      await h.driver.push([newJob({ name: 'prefetch.rec', queue: 'low' })]);
      const claim = vi.spyOn(h.driver, 'claim');
      const w = startWorker(h, [rec.job], {
        queues: ['high', 'low'],
        prefetch: 8,
        stopWhenEmpty: true,
      });
      expect(await exitOf(w)).toBe(0);
      expect(claim.mock.calls.every((c) => c[1] === 1)).toBe(true);
    });

    it('frees a slot when the handler ends and waits for the completion before it exits', async () => {
      const h = harness();
      const rec = recorder();
      await h.driver.push(Array.from({ length: 20 }, () => newJob({ name: 'prefetch.rec' })));
      const w = startWorker(h, [rec.job], { concurrency: 3, stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(0);
      expect(w.of('job:processed')).toHaveLength(20);
      expect(w.of('job:lost')).toEqual([]);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });
  });
}
