/**
 * Conformance: what a driver does with a job whose lease ran out (crash isolation, issue 11
 * items 4 and 5; docs/reliability.md). The claim that takes it back says so (`isolate`, and
 * LEASE_LOST_ERROR as its last error); the lost claim costs an attempt only if the job was
 * running alone (`markAlone`); and the job is claimable again as soon as its lease allows.
 */
import { describe, expect, it } from 'vitest';
import { LEASE_LOST_ERROR, type ClaimedJob, type QueueDriver } from '../../src/queue/driver.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { claimWhenReady, pushOne, useHarness } from './support.js';

const SHORT = 300;
/** How long after its lease a job may take to come back: the redis driver's stalledCheckMs. */
const RECOVERY_MS = 250;
/** Polling, round trips and a busy machine. */
const SLACK_MS = 250;

const leaseOf = (job: ClaimedJob) => ({ id: job.id, token: job.token });

/** Claims the one job of `default` with a SHORT lease. */
async function claimShort(driver: QueueDriver): Promise<ClaimedJob> {
  const [job] = await driver.claim(['default'], 1, SHORT);
  expect(job).toBeDefined();
  return job!;
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: lost leases`, () => {
    const harness = useHarness(d);

    it('hands a job whose lease ran out back isolated, with the lease-lost error', async () => {
      const { driver } = harness();
      const id = await pushOne(driver);
      await claimShort(driver);
      const back = await claimWhenReady(driver);
      expect(back).toMatchObject({ id, isolate: true, lastError: LEASE_LOST_ERROR });
      const [row] = await driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'reserved', lastError: LEASE_LOST_ERROR });
    });

    it('does not charge the lost claim of a job that was not running alone', async () => {
      const { driver } = harness();
      await pushOne(driver);
      const lost = await claimShort(driver);
      const back = await claimWhenReady(driver);
      expect(back.attempts).toBe(lost.attempts);
    });

    it('charges the lost claim of a job marked alone', async () => {
      const { driver } = harness();
      await pushOne(driver);
      const lost = await claimShort(driver);
      expect(await driver.markAlone(leaseOf(lost))).toBe(true);
      const back = await claimWhenReady(driver);
      expect(back).toMatchObject({ isolate: true, attempts: lost.attempts + 1 });
    });

    it('clears the alone mark at the next claim', async () => {
      const { driver } = harness();
      await pushOne(driver, { maxTries: 5 });
      const first = await claimShort(driver);
      expect(await driver.markAlone(leaseOf(first))).toBe(true);
      const second = await claimWhenReady(driver, { leaseMs: SHORT });
      expect(second.attempts).toBe(first.attempts + 1);
      // Not marked this time: this loss is not charged.
      const third = await claimWhenReady(driver);
      expect(third).toMatchObject({ isolate: true, attempts: second.attempts });
    });

    it('charges nothing to the jobs claimed beside the one that ran alone', async () => {
      const { driver } = harness();
      for (let i = 0; i < 3; i++) await pushOne(driver);
      const lost = await driver.claim(['default'], 3, SHORT);
      expect(lost).toHaveLength(3);
      const back: ClaimedJob[] = [];
      await waitFor(
        async () => {
          back.push(...(await driver.claim(['default'], 3 - back.length, 5_000)));
          return back.length === 3;
        },
        { timeoutMs: 3_000, intervalMs: 20, message: 'the jobs did not come back' },
      );
      for (const job of back) {
        const before = lost.find((j) => j.id === job.id)!;
        expect(job).toMatchObject({ isolate: true, attempts: before.attempts });
      }
    });

    it('gives a normal claim no isolation and the error of the last release', async () => {
      const { driver } = harness();
      const id = await pushOne(driver);
      const [fresh] = await driver.claim(['default'], 1, 5_000);
      expect(fresh!.isolate ?? false).toBe(false);
      expect(fresh!.lastError ?? null).toBeNull();
      expect(await driver.release(leaseOf(fresh!), { delayMs: 0, error: 'Error: boom' })).toBe(
        true,
      );
      const [retried] = await driver.claim(['default'], 1, 5_000);
      expect(retried).toMatchObject({ id, lastError: 'Error: boom' });
      expect(retried!.isolate ?? false).toBe(false);
    });

    it('claims a job released after an isolated claim as a normal one', async () => {
      const { driver } = harness();
      await pushOne(driver);
      await claimShort(driver);
      const back = await claimWhenReady(driver);
      expect(back.isolate).toBe(true);
      expect(await driver.release(leaseOf(back), { delayMs: 0, error: 'Error: again' })).toBe(true);
      const [next] = await driver.claim(['default'], 1, 5_000);
      expect(next).toMatchObject({ lastError: 'Error: again' });
      expect(next!.isolate ?? false).toBe(false);
    });

    it('gives back the isolated claim on a release that refunds the attempt', async () => {
      const { driver } = harness();
      await pushOne(driver);
      const lost = await claimShort(driver);
      const back = await claimWhenReady(driver);
      expect(await driver.release(leaseOf(back), { delayMs: 0, refundAttempt: true })).toBe(true);
      const [next] = await driver.claim(['default'], 1, 5_000);
      expect(next!.attempts).toBe(lost.attempts);
      expect(next!.isolate ?? false).toBe(false);
    });

    describe('markAlone', () => {
      it('is true while the lease holds', async () => {
        const { driver } = harness();
        await pushOne(driver);
        const [job] = await driver.claim(['default'], 1, 5_000);
        expect(await driver.markAlone(leaseOf(job!))).toBe(true);
      });

      it('is false once the lease was lost, and marks nothing', async () => {
        const { driver } = harness();
        await pushOne(driver, { maxTries: 5 });
        const stale = await claimShort(driver);
        const current = await claimWhenReady(driver, { leaseMs: SHORT });
        expect(await driver.markAlone(leaseOf(stale))).toBe(false);
        // The current claim was not marked by the stale call: its loss costs nothing.
        const next = await claimWhenReady(driver);
        expect(next.attempts).toBe(current.attempts);
      });

      it('is false once the job was settled', async () => {
        const { driver } = harness();
        await pushOne(driver);
        const [job] = await driver.claim(['default'], 1, 5_000);
        expect(await driver.complete([leaseOf(job!)])).toEqual([job!.id]);
        expect(await driver.markAlone(leaseOf(job!))).toBe(false);
      });
    });

    it('hands jobs back from lost leases in priority order', async () => {
      const { driver } = harness();
      const low = await pushOne(driver, { priority: 0 });
      const high = await pushOne(driver, { priority: 5 });
      expect(await driver.claim(['default'], 2, SHORT)).toHaveLength(2);
      const back = await claimWhenReady(driver);
      expect(back.id).toBe(high);
      const [next] = await driver.claim(['default'], 1, 5_000);
      expect(next!.id).toBe(low);
    });

    it('makes the job claimable again within the recovery period after its lease', async () => {
      const { driver } = harness();
      await pushOne(driver);
      const claimedAt = Date.now();
      await claimShort(driver);
      await claimWhenReady(driver);
      const tookMs = Date.now() - claimedAt;
      expect(tookMs).toBeGreaterThanOrEqual(SHORT - 10);
      expect(tookMs).toBeLessThanOrEqual(SHORT + RECOVERY_MS + SLACK_MS);
    });
  });
}
