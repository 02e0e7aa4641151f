import { describe, expect, it } from 'vitest';
import { drivers } from './drivers.js';
import { newJob, pushOne, useHarness } from './support.js';

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: bulk push, sizes, listings and clear`, () => {
    const harness = useHarness(d);

    it('stores a bulk push all or nothing: a bad second job stores nothing', async () => {
      const { driver } = harness();
      const bad = newJob({ name: null as unknown as string });
      await expect(driver.push([newJob(), bad, newJob()])).rejects.toThrow();
      expect(await driver.list('default', undefined, 0, 10)).toEqual([]);
      expect(await driver.queues()).toEqual([]);
    });

    it('rolls back the unique keys of a bulk push that stored nothing', async () => {
      const { driver } = harness();
      const keyed = () => newJob({ unique: { key: 'k', forMs: 60_000 } });
      const bad = newJob({ name: null as unknown as string });
      await expect(driver.push([keyed(), bad])).rejects.toThrow();
      expect(await driver.list('default', undefined, 0, 10)).toEqual([]);
      const [again] = await driver.push([keyed()]);
      expect(again!.deduplicated).toBe(false);
    });

    it('counts pending, delayed and reserved jobs per queue', async () => {
      const { driver } = harness();
      await driver.push([newJob(), newJob(), newJob(), newJob({ delayMs: 60_000 })]);
      await pushOne(driver, { queue: 'other' });
      await driver.claim(['default'], 1, 60_000);
      expect(await driver.sizes(['default', 'other', 'empty'])).toEqual([
        { queue: 'default', pending: 2, delayed: 1, reserved: 1 },
        { queue: 'other', pending: 1, delayed: 0, reserved: 0 },
        { queue: 'empty', pending: 0, delayed: 0, reserved: 0 },
      ]);
    });

    it('counts a job whose lease expired as pending', async () => {
      const { driver } = harness();
      await pushOne(driver);
      await driver.claim(['default'], 1, 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(await driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 1, delayed: 0, reserved: 0 },
      ]);
    });

    it('lists the queues that hold jobs', async () => {
      const { driver } = harness();
      expect(await driver.queues()).toEqual([]);
      await pushOne(driver, { queue: 'mail' });
      await pushOne(driver, { queue: 'default', delayMs: 60_000 });
      expect([...(await driver.queues())].sort()).toEqual(['default', 'mail']);
    });

    it('lists jobs by state in run order, paged', async () => {
      const { driver } = harness();
      const low = await pushOne(driver, { priority: 0 });
      const high = await pushOne(driver, { priority: 5, payload: '{"a":1}' });
      const delayed = await pushOne(driver, { delayMs: 60_000 });
      const held = await pushOne(driver, { priority: 9 });
      await driver.claim(['default'], 1, 60_000);

      const all = await driver.list('default', undefined, 0, 10);
      expect(all.map((r) => [r.id, r.state])).toEqual([
        [held, 'reserved'],
        [high, 'pending'],
        [low, 'pending'],
        [delayed, 'delayed'],
      ]);
      expect(all[1]).toMatchObject({
        name: 'conformance.noop',
        queue: 'default',
        priority: 5,
        attempts: 0,
        maxTries: 3,
        payload: '{"a":1}',
        lastError: null,
      });
      expect((await driver.list('default', 'pending', 0, 10)).map((r) => r.id)).toEqual([
        high,
        low,
      ]);
      expect((await driver.list('default', 'delayed', 0, 10)).map((r) => r.id)).toEqual([delayed]);
      expect((await driver.list('default', 'reserved', 0, 10)).map((r) => r.id)).toEqual([held]);
      expect((await driver.list('default', undefined, 1, 2)).map((r) => r.id)).toEqual([high, low]);
    });

    it('clears a queue but leaves a job with a live lease', async () => {
      const { driver } = harness();
      await driver.push([newJob(), newJob({ delayMs: 60_000 }), newJob()]);
      const other = await pushOne(driver, { queue: 'other' });
      const [held] = await driver.claim(['default'], 1, 60_000);
      expect(await driver.clear('default')).toBe(2);
      expect((await driver.list('default', undefined, 0, 10)).map((r) => r.id)).toEqual([held!.id]);
      expect((await driver.list('other', undefined, 0, 10)).map((r) => r.id)).toEqual([other]);
      // The holder still settles it.
      expect(await driver.complete([{ id: held!.id, token: held!.token }])).toEqual([held!.id]);
    });

    it('clears a job whose lease expired', async () => {
      const { driver } = harness();
      await pushOne(driver);
      await driver.claim(['default'], 1, 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(await driver.clear('default')).toBe(1);
      expect(await driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('frees the unique keys of cleared jobs', async () => {
      const { driver } = harness();
      await driver.push([newJob({ unique: { key: 'k', forMs: 60_000 } })]);
      await driver.clear('default');
      const [again] = await driver.push([newJob({ unique: { key: 'k', forMs: 60_000 } })]);
      expect(again!.deduplicated).toBe(false);
    });
  });
}
