import { describe, expect, it } from 'vitest';
import { failedRecord } from '../../src/failed/record.js';
import { newJobFor } from '../../src/failed/retry.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { drivers } from './drivers.js';
import { claimWhenReady, failedJobs, pushOne, useHarness } from './support.js';

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: complete, release and fail`, () => {
    const harness = useHarness(d);

    async function claimedJob(maxTries = 3) {
      const h = harness();
      const id = await pushOne(h.driver, { maxTries, payload: '{"userId":1}' });
      const [job] = await h.driver.claim(['default'], 1, 5_000);
      return { h, id, job: job!, lease: { id, token: job!.token } };
    }

    it('complete deletes the job', async () => {
      const { h, id, lease } = await claimedJob();
      expect(await h.driver.complete([lease])).toEqual([id]);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
      expect(await h.driver.sizes(['default'])).toEqual([
        { queue: 'default', pending: 0, delayed: 0, reserved: 0 },
      ]);
    });

    it('completes a batch of leases in one call', async () => {
      const h = harness();
      const ids = [await pushOne(h.driver), await pushOne(h.driver), await pushOne(h.driver)];
      const claimed = await h.driver.claim(['default'], 3, 5_000);
      const done = await h.driver.complete(claimed.map((j) => ({ id: j.id, token: j.token })));
      expect([...done].sort()).toEqual([...ids].sort());
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('release puts the job back at once, its attempt counted', async () => {
      const { h, id, lease } = await claimedJob();
      expect(await h.driver.release(lease, { delayMs: 0, error: 'boom' })).toBe(true);
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, state: 'pending', attempts: 1, lastError: 'boom' });
      const [again] = await h.driver.claim(['default'], 1, 5_000);
      expect(again).toMatchObject({ id, attempts: 2 });
    });

    it('release with a delay keeps the job until the delay passed', async () => {
      const { h, id, lease } = await claimedJob();
      const releasedAt = Date.now();
      expect(await h.driver.release(lease, { delayMs: 300 })).toBe(true);
      expect(await h.driver.claim(['default'], 1, 5_000)).toEqual([]);
      expect((await h.driver.list('default', undefined, 0, 10))[0]?.state).toBe('delayed');
      const again = await claimWhenReady(h.driver, { leaseMs: 5_000 });
      expect(again.id).toBe(id);
      expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(290);
    });

    it('release with refundAttempt gives the attempt back', async () => {
      const { h, id, lease } = await claimedJob();
      expect(await h.driver.release(lease, { delayMs: 0, refundAttempt: true })).toBe(true);
      expect((await h.driver.list('default', undefined, 0, 10))[0]).toMatchObject({
        id,
        attempts: 0,
      });
      const [again] = await h.driver.claim(['default'], 1, 5_000);
      expect(again).toMatchObject({ id, attempts: 1 });
    });

    it('fail moves the job to failed_jobs: the job row gone, the failed row with reason and attempts', async () => {
      const { h, id, job, lease } = await claimedJob();
      const record = failedRecord(h.driver.connection, job, 'poison', new Error('bad payload'));
      expect(await h.driver.fail(lease, record)).toBe(true);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
      const rows = await failedJobs(h);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        uuid: record.uuid,
        connection: h.driver.connection,
        queue: 'default',
        name: 'conformance.noop',
        payload: '{"userId":1}',
        reason: 'poison',
        attempts: 1,
        originalId: id,
      });
      expect(rows[0]!.exception).toContain('bad payload');
    });

    it("keeps a failed job's tags in failed_jobs, and its retry goes back with them", async () => {
      const h = harness();
      const id = await pushOne(h.driver, { tags: ['post:42', 'user:7'] });
      const plain = await pushOne(h.driver);
      for (const job of await h.driver.claim(['default'], 2, 5_000)) {
        const record = failedRecord(h.driver.connection, job, 'error', new Error('x'));
        expect(await h.driver.fail({ id: job.id, token: job.token }, record)).toBe(true);
      }
      const rows = await failedJobs(h);
      expect(rows.map((r) => [r.originalId, r.tags])).toEqual([
        [id, ['post:42', 'user:7']],
        [plain, []],
      ]);
      // What queue:retry pushes for them (on the database connection it inserts the same).
      const retried = rows.map((r) => newJobFor(r, new JobRegistry([])));
      expect(retried.map((j) => j.tags)).toEqual([['post:42', 'user:7'], undefined]);
      await h.driver.push(retried);
      const again = await h.driver.claim(['default'], 2, 5_000);
      expect(again.map((j) => j.tags ?? [])).toEqual([['post:42', 'user:7'], []]);
    });

    it("keeps a failed job's headers in failed_jobs; its retry goes back with them, but not a batch's", async () => {
      const h = harness();
      const headers = {
        'jobsmith-chain': 'c1:1:3',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'jobsmith-batch': 'b1',
      };
      const id = await pushOne(h.driver, { headers });
      const plain = await pushOne(h.driver);
      for (const job of await h.driver.claim(['default'], 2, 5_000)) {
        const record = failedRecord(h.driver.connection, job, 'error', new Error('x'));
        expect(await h.driver.fail({ id: job.id, token: job.token }, record)).toBe(true);
      }
      const rows = await failedJobs(h);
      expect(rows.map((r) => [r.originalId, r.headers])).toEqual([
        [id, headers],
        [plain, undefined],
      ]);
      const retried = rows.map((r) => newJobFor(r, new JobRegistry([])));
      await h.driver.push(retried);
      const again = await h.driver.claim(['default'], 2, 5_000);
      expect(again.map((j) => j.headers)).toEqual([
        { 'jobsmith-chain': 'c1:1:3', traceparent: headers.traceparent },
        undefined,
      ]);
    });

    it('fails a job only once: a second fail with the same token returns false', async () => {
      const { h, job, lease } = await claimedJob();
      const record = () => failedRecord(h.driver.connection, job, 'error', new Error('x'));
      expect(await h.driver.fail(lease, record())).toBe(true);
      expect(await h.driver.fail(lease, record())).toBe(false);
      expect(await failedJobs(h)).toHaveLength(1);
    });

    it('keeps the job and records nothing when its failed row cannot be written', async () => {
      const h = harness();
      const first = await claimedJob();
      const taken = failedRecord(h.driver.connection, first.job, 'error', new Error('first'));
      await h.driver.fail(first.lease, taken);
      const id = await pushOne(h.driver);
      const [job] = await h.driver.claim(['default'], 1, 5_000);
      const lease = { id, token: job!.token };
      // A uuid already in failed_jobs: the insert fails, so the job must stay where it was.
      const clash = {
        ...failedRecord(h.driver.connection, job!, 'error', new Error('x')),
        uuid: taken.uuid,
      };
      await expect(h.driver.fail(lease, clash)).rejects.toThrow();
      expect(await h.driver.list('default', undefined, 0, 10)).toMatchObject([
        { id, state: 'reserved', attempts: 1 },
      ]);
      expect(await failedJobs(h)).toHaveLength(1);
      const retry = failedRecord(h.driver.connection, job!, 'error', new Error('second'));
      expect(await h.driver.fail(lease, retry)).toBe(true);
      expect(await failedJobs(h)).toHaveLength(2);
    });

    it('fails a job only once when two fail at the same time', async () => {
      const { h, job, lease } = await claimedJob();
      const other = await h.connect();
      const record = () => failedRecord(h.driver.connection, job, 'error', new Error('x'));
      const results = await Promise.all([
        h.driver.fail(lease, record()),
        other.fail(lease, record()),
      ]);
      expect([...results].sort()).toEqual([false, true]);
      expect(await failedJobs(h)).toHaveLength(1);
    });
  });
}
