import { describe, expect, it } from 'vitest';
import { failedRecord } from '../../src/failed/record.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { failedJobs, newJob, useHarness } from './support.js';

const unique = (forMs = 60_000) => ({ unique: { key: 'digest:1', forMs } });

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: unique jobs`, () => {
    const harness = useHarness(d);

    it('returns the first id with deduplicated:true for the same key within forMs', async () => {
      const { driver } = harness();
      const [first] = await driver.push([newJob(unique())]);
      const [second] = await driver.push([newJob({ ...unique(), payload: '{"other":true}' })]);
      expect(first).toEqual({ id: expect.any(String), deduplicated: false });
      expect(second).toEqual({ id: first!.id, deduplicated: true });
      expect(await driver.list('default', undefined, 0, 10)).toHaveLength(1);
    });

    it('deduplicates within one bulk push', async () => {
      const { driver } = harness();
      const results = await driver.push([newJob(unique()), newJob(unique())]);
      expect(results[1]).toEqual({ id: results[0]!.id, deduplicated: true });
      expect(await driver.list('default', undefined, 0, 10)).toHaveLength(1);
    });

    it('does not deduplicate different keys', async () => {
      const { driver } = harness();
      const results = await driver.push([
        newJob({ unique: { key: 'a', forMs: 60_000 } }),
        newJob({ unique: { key: 'b', forMs: 60_000 } }),
      ]);
      expect(results.map((r) => r.deduplicated)).toEqual([false, false]);
    });

    it('deduplicates while the job is held by a worker', async () => {
      const { driver } = harness();
      const [first] = await driver.push([newJob(unique())]);
      await driver.claim(['default'], 1, 5_000);
      expect((await driver.push([newJob(unique())]))[0]).toEqual({
        id: first!.id,
        deduplicated: true,
      });
    });

    it('accepts the key again once the job completed', async () => {
      const { driver } = harness();
      const [first] = await driver.push([newJob(unique())]);
      const [job] = await driver.claim(['default'], 1, 5_000);
      await driver.complete([{ id: job!.id, token: job!.token }]);
      const [second] = await driver.push([newJob(unique())]);
      expect(second!.deduplicated).toBe(false);
      expect(second!.id).not.toBe(first!.id);
    });

    it('accepts the key again once the job failed', async () => {
      const h = harness();
      await h.driver.push([newJob(unique())]);
      const [job] = await h.driver.claim(['default'], 1, 5_000);
      await h.driver.fail(
        { id: job!.id, token: job!.token },
        failedRecord(h.driver.connection, job!, 'error', new Error('x')),
      );
      expect((await h.driver.push([newJob(unique())]))[0]!.deduplicated).toBe(false);
    });

    it('keeps the key and window of a failed job in failed_jobs, for queue:retry', async () => {
      const h = harness();
      await h.driver.push([newJob(unique(90_000)), newJob({ payload: '{"plain":true}' })]);
      for (const job of await h.driver.claim(['default'], 2, 5_000)) {
        const record = failedRecord(h.driver.connection, job, 'error', new Error('x'));
        expect(await h.driver.fail({ id: job.id, token: job.token }, record)).toBe(true);
      }
      const rows = await failedJobs(h);
      expect(rows.map((r) => r.unique)).toEqual([{ key: 'digest:1', forMs: 90_000 }, null]);
    });

    it('accepts the key again once forMs passed, even while the first job waits', async () => {
      const { driver } = harness();
      const pushedAt = Date.now();
      const [first] = await driver.push([newJob(unique(300))]);
      const second = await waitFor(
        async () => {
          // Each try that is still deduplicated stores nothing, so trying is harmless.
          const [r] = await driver.push([newJob(unique(300))]);
          return r && !r.deduplicated ? r : false;
        },
        { timeoutMs: 3_000, intervalMs: 50 },
      );
      expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(290);
      expect(second && second.id).not.toBe(first!.id);
      expect(await driver.list('default', undefined, 0, 10)).toHaveLength(2);
    });

    it('stores exactly one job for ten concurrent pushes of one key', async () => {
      const h = harness();
      const other = await h.connect();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : h.driver).push([newJob(unique())])),
      );
      const flat = results.flat();
      const stored = flat.filter((r) => !r.deduplicated);
      expect(stored).toHaveLength(1);
      expect(new Set(flat.map((r) => r.id))).toEqual(new Set([stored[0]!.id]));
      expect(await h.driver.list('default', undefined, 0, 20)).toHaveLength(1);
    });
  });
}
