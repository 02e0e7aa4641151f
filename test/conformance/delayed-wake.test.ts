import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { drivers } from './drivers.js';
import { pushOne, startWorker, useHarness } from './support.js';

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
