import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { drivers } from './drivers.js';
import { pushOne, sleep, startWorker, useHarness } from './support.js';

/** The idle wait of these tests, far longer than the delays: a late start shows. */
const SLEEP_MS = 5_000;
const DELAY_MS = 500;

for (const d of drivers) {
  describe.skipIf(!d.available())(
    `${d.name}: an idle worker wakes when a delayed job comes due`,
    () => {
      const harness = useHarness(d);

      it('an idle wait ends when a delayed job comes due, not at its timeout', async () => {
        const { driver } = harness();
        const id = await pushOne(driver, { delayMs: DELAY_MS });
        const started = Date.now();
        let claimed: string | undefined;
        // A wait may end early (a notification); at most a few rounds before the job is due.
        for (let round = 0; round < 10 && !claimed; round++) {
          [claimed] = (await driver.claim(['default'], 1, 60_000)).map((j) => j.id);
          if (!claimed)
            await driver.waitForJobs(['default'], SLEEP_MS, new AbortController().signal);
        }
        expect(claimed).toBe(id);
        expect(Date.now() - started).toBeLessThan(DELAY_MS + 1_500);
      });

      // The claim looks before the job is due, the wait after: the job is due by then, so it
      // is no "next job" any more, and a wait that counted only jobs still to come slept its
      // whole timeout beside it (seen under load, when the timer fired a moment early).
      it('a job that comes due between the claim and the wait ends the wait at once', async () => {
        const { driver } = harness();
        // A short wait first, so that the driver's notifications (PostgreSQL's LISTEN) are up;
        // and the push's own notice lands before the claim: neither may end the wait below.
        await driver.waitForJobs(['default'], 200, new AbortController().signal);
        const id = await pushOne(driver, { delayMs: 300 });
        await sleep(100);
        expect(await driver.claim(['default'], 1, 60_000)).toEqual([]);
        // The interleaving itself: the job comes due after the claim, before the wait.
        await sleep(300);
        const started = Date.now();
        await driver.waitForJobs(['default'], SLEEP_MS, new AbortController().signal);
        expect(Date.now() - started).toBeLessThan(1_000);
        expect((await driver.claim(['default'], 1, 60_000)).map((j) => j.id)).toEqual([id]);
      });

      // The other side of it: a job due at the claim and left there (its queue's global cap
      // is full) is no reason to look again at once, or an idle worker would spin on it.
      // Not on Redis: a wait there ends on BullMQ's markers, which the pushes and the claim
      // leave (a few early ends, then full waits), not on a "next due" query. (Not registered
      // there, rather than skipped: it does not apply, and CI counts a skip as a failure to run.)
      const sqlDriverIt = d.name === 'redis' ? () => undefined : it;
      sqlDriverIt('a job a global cap leaves waiting does not end the wait at once', async () => {
        const { driver } = harness();
        await driver.waitForJobs(['default'], 200, new AbortController().signal);
        await pushOne(driver);
        await pushOne(driver);
        await sleep(100);
        const cap = { globalConcurrency: new Map([['default', 1]]) };
        expect(await driver.claim(['default'], 2, 60_000, cap)).toHaveLength(1);
        const started = Date.now();
        await driver.waitForJobs(['default'], 300, new AbortController().signal);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      });

      it('a job delayed 500 ms, a worker with --sleep 5s: it starts on time', async () => {
        const h = harness();
        const startedAt: number[] = [];
        const job = defineJob({
          name: 'conformance.noop',
          handle: () => void startedAt.push(Date.now()),
        });
        const w = startWorker(h, [job], { sleepMs: SLEEP_MS });
        // The worker is idle: its first claim found nothing.
        await new Promise<void>((resolve) => w.worker.once('worker:started', () => resolve()));
        const dispatchedAt = Date.now();
        await pushOne(h.driver, { delayMs: DELAY_MS });
        const deadline = Date.now() + SLEEP_MS * 2;
        while (startedAt.length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(startedAt).toHaveLength(1);
        const late = startedAt[0]! - dispatchedAt - DELAY_MS;
        expect(late).toBeLessThan(1_000);
      });
    },
  );
}
