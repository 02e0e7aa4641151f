import { describe, expect, it } from 'vitest';
import { failedRecord } from '../../src/failed/record.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import { drivers } from './drivers.js';
import { claimWhenReady, failedJobs, pushOne, sleep, useHarness } from './support.js';

const SHORT = 300;

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: leases and fencing`, () => {
    const harness = useHarness(d);

    it('does not hand out a job while its lease holds', async () => {
      const { driver } = harness();
      await pushOne(driver);
      await driver.claim(['default'], 1, 5_000);
      expect(await driver.claim(['default'], 1, 5_000)).toEqual([]);
    });

    it('releases a job whose lease expired: claimable again with a new token, the attempt charged if it ran alone', async () => {
      const { driver } = harness();
      const id = await pushOne(driver);
      const claimedAt = Date.now();
      const [first] = await driver.claim(['default'], 1, SHORT);
      // Alone, the job is to blame for its lost lease (lost-leases.test.ts has the other case).
      expect(await driver.markAlone({ id, token: first!.token })).toBe(true);
      const second = await claimWhenReady(driver);
      expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(SHORT - 10);
      expect(second).toMatchObject({ id, isolate: true, attempts: first!.attempts + 1 });
      expect(second.token).not.toBe(first!.token);
    });

    it('keeps a job whose lease is extended', async () => {
      const { driver } = harness();
      const id = await pushOne(driver);
      const [job] = await driver.claim(['default'], 1, SHORT);
      const lease = { id, token: job!.token };
      // Renew every 100 ms for three lease lengths; nobody may claim it meanwhile.
      for (let i = 0; i < 9; i++) {
        expect(await driver.extend([lease], SHORT)).toEqual([id]);
        expect(await driver.claim(['default'], 1, SHORT)).toEqual([]);
        await sleep(100);
      }
      expect(await driver.complete([lease])).toEqual([id]);
    });

    it('extends only the leases whose token still holds', async () => {
      const { driver } = harness();
      const a = await pushOne(driver);
      const b = await pushOne(driver);
      const claimed = await driver.claim(['default'], 2, 5_000);
      const tokenOf = (id: string) => claimed.find((j) => j.id === id)!.token;
      const held = await driver.extend(
        [
          { id: a, token: tokenOf(a) },
          { id: b, token: 'stale' },
        ],
        5_000,
      );
      expect(held).toEqual([a]);
    });

    describe('with a stale token (the lease expired and another worker claimed the job)', () => {
      async function staleAndCurrent() {
        const h = harness();
        const id = await pushOne(h.driver, { maxTries: 5 });
        const [stale] = await h.driver.claim(['default'], 1, SHORT);
        const current = await claimWhenReady(h.driver);
        return { h, id, stale: { id, token: stale!.token }, current };
      }

      // The lost claim ran beside nothing marked alone: it is not charged (lost-leases.test.ts).
      async function stillHeldBy(driver: QueueDriver, attempts: number) {
        const rows = await driver.list('default', undefined, 0, 10);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ state: 'reserved', attempts });
      }

      it('complete changes nothing and returns no id', async () => {
        const { h, stale, current } = await staleAndCurrent();
        expect(await h.driver.complete([stale])).toEqual([]);
        await stillHeldBy(h.driver, current.attempts);
      });

      it('release changes nothing and returns false', async () => {
        const { h, stale, current } = await staleAndCurrent();
        expect(await h.driver.release(stale, { delayMs: 0, refundAttempt: true })).toBe(false);
        await stillHeldBy(h.driver, current.attempts);
        expect(await h.driver.claim(['default'], 1, SHORT)).toEqual([]);
      });

      it('fail changes nothing, records nothing and returns false', async () => {
        const { h, stale, current } = await staleAndCurrent();
        const record = failedRecord(h.driver.connection, current, 'error', new Error('late'));
        expect(await h.driver.fail(stale, record)).toBe(false);
        await stillHeldBy(h.driver, current.attempts);
        expect(await failedJobs(h)).toEqual([]);
      });

      it('extend changes nothing and returns no id', async () => {
        const { h, stale, current } = await staleAndCurrent();
        expect(await h.driver.extend([stale], 60_000)).toEqual([]);
        // The current holder still settles normally.
        expect(await h.driver.complete([{ id: current.id, token: current.token }])).toEqual([
          current.id,
        ]);
      });
    });

    it('settles nothing for a job that is gone', async () => {
      const { driver } = harness();
      const id = await pushOne(driver);
      const [job] = await driver.claim(['default'], 1, 5_000);
      const lease = { id, token: job!.token };
      expect(await driver.complete([lease])).toEqual([id]);
      expect(await driver.complete([lease])).toEqual([]);
      expect(await driver.release(lease, { delayMs: 0 })).toBe(false);
      expect(await driver.extend([lease], 5_000)).toEqual([]);
    });
  });
}
