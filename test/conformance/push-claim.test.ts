import { describe, expect, it } from 'vitest';
import { drivers } from './drivers.js';
import { claimWhenReady, newJob, pushOne, useHarness } from './support.js';

const LEASE = 1_000;

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: push and claim`, () => {
    const harness = useHarness(d);

    it('returns a distinct id for every pushed job, not deduplicated', async () => {
      const { driver } = harness();
      const results = await driver.push([newJob(), newJob(), newJob()]);
      expect(results.map((r) => r.deduplicated)).toEqual([false, false, false]);
      expect(new Set(results.map((r) => r.id)).size).toBe(3);
    });

    it('claims jobs of one priority first in, first out', async () => {
      const { driver } = harness();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await pushOne(driver, { payload: `{"n":${i}}` }));
      const order = [];
      for (let i = 0; i < 3; i++) {
        const [job] = await driver.claim(['default'], 1, LEASE);
        order.push(job?.id);
      }
      expect(order).toEqual(ids);
    });

    it('claims a higher priority first', async () => {
      const { driver } = harness();
      const low = await pushOne(driver, { priority: 0 });
      const high = await pushOne(driver, { priority: 10 });
      const mid = await pushOne(driver, { priority: 5 });
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await driver.claim(['default'], 1, LEASE))[0]?.id);
      expect(order).toEqual([high, mid, low]);
    });

    it('returns a batch claim in the order the jobs should run', async () => {
      const { driver } = harness();
      const a = await pushOne(driver, { priority: 0 });
      const b = await pushOne(driver, { priority: 10 });
      const c = await pushOne(driver, { priority: 0 });
      const d2 = await pushOne(driver, { priority: 10 });
      const claimed = await driver.claim(['default'], 10, LEASE);
      expect(claimed.map((j) => j.id)).toEqual([b, d2, a, c]);
    });

    it('takes queues in strict order: no lower queue job while a higher one is ready', async () => {
      const { driver } = harness();
      const low = await pushOne(driver, { queue: 'default', priority: 100 });
      const high1 = await pushOne(driver, { queue: 'high' });
      const high2 = await pushOne(driver, { queue: 'high' });
      const first = await driver.claim(['high', 'default'], 1, LEASE);
      const second = await driver.claim(['high', 'default'], 1, LEASE);
      const third = await driver.claim(['high', 'default'], 1, LEASE);
      expect([first, second, third].map((c) => c.map((j) => j.id))).toEqual([
        [high1],
        [high2],
        [low],
      ]);
    });

    it('fills a batch claim from the higher queue before the lower one', async () => {
      const { driver } = harness();
      const low = await pushOne(driver, { queue: 'low' });
      const high = await pushOne(driver, { queue: 'high' });
      const claimed = await driver.claim(['high', 'low'], 10, LEASE);
      expect(claimed.map((j) => [j.queue, j.id])).toEqual([
        ['high', high],
        ['low', low],
      ]);
    });

    it('claims only from the queues asked for', async () => {
      const { driver } = harness();
      await pushOne(driver, { queue: 'other' });
      expect(await driver.claim(['default'], 10, LEASE)).toEqual([]);
    });

    it('does not claim a job delayed by delayMs before its time, and does after', async () => {
      const { driver } = harness();
      const pushedAt = Date.now();
      const id = await pushOne(driver, { delayMs: 300 });
      expect(await driver.claim(['default'], 1, LEASE)).toEqual([]);
      const job = await claimWhenReady(driver, { leaseMs: LEASE });
      expect(job.id).toBe(id);
      expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(290);
    });

    it('does not claim a job scheduled with runAt before that moment, and does after', async () => {
      const { driver } = harness();
      const runAt = Date.now() + 300;
      // runAt wins over delayMs.
      const id = await pushOne(driver, { runAt, delayMs: 60_000 });
      expect(await driver.claim(['default'], 1, LEASE)).toEqual([]);
      const job = await claimWhenReady(driver, { leaseMs: LEASE });
      expect(job.id).toBe(id);
      expect(Date.now()).toBeGreaterThanOrEqual(runAt - 10);
    });

    it('claims a job whose runAt is in the past at once', async () => {
      const { driver } = harness();
      const id = await pushOne(driver, { runAt: Date.now() - 60_000 });
      expect((await driver.claim(['default'], 1, LEASE)).map((j) => j.id)).toEqual([id]);
    });

    it('claims no more than the limit', async () => {
      const { driver } = harness();
      await driver.push(Array.from({ length: 5 }, () => newJob()));
      expect(await driver.claim(['default'], 2, LEASE)).toHaveLength(2);
      expect(await driver.claim(['default'], 10, LEASE)).toHaveLength(3);
      expect(await driver.claim(['default'], 10, LEASE)).toHaveLength(0);
    });

    it('counts an attempt at claim and hands over the job as stored', async () => {
      const { driver } = harness();
      const id = await pushOne(driver, {
        name: 'conformance.shape',
        payload: '{"userId":7}',
        priority: 3,
        maxTries: 4,
      });
      const [job] = await driver.claim(['default'], 1, LEASE);
      expect(job).toMatchObject({
        id,
        name: 'conformance.shape',
        queue: 'default',
        payload: '{"userId":7}',
        priority: 3,
        attempts: 1,
        maxTries: 4,
      });
      expect(job!.token).toEqual(expect.any(String));
      const [row] = await driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'reserved', attempts: 1 });
    });

    it('never hands one job to two claims', async () => {
      const { driver } = harness();
      const other = await harness().connect();
      await driver.push(Array.from({ length: 20 }, () => newJob()));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : driver).claim(['default'], 3, LEASE)),
      );
      const ids = claims.flat().map((j) => j.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });
  });
}
