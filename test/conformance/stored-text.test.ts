import { describe, expect, it } from 'vitest';
import { failedRecord } from '../../src/failed/record.js';
import { storableKey } from '../../src/util/stored-text.js';
import { drivers } from './drivers.js';
import { failedJobs, newJob, pushOne, useHarness } from './support.js';

/*
 * Text and numbers a storage cannot hold as they are (issue 11, items 1 and 8): NUL, lone
 * surrogates, text longer than its column, fractional milliseconds. Whatever the backend, the
 * driver stores them in the same readable form, and identities (unique keys) still match.
 */

const unique = (key: string) => newJob({ unique: { key, forMs: 60_000 } });

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: text and numbers the storage cannot hold`, () => {
    const harness = useHarness(d);

    async function claimed() {
      const h = harness();
      const id = await pushOne(h.driver);
      const [job] = await h.driver.claim(['default'], 1, 5_000);
      return { h, id, job: job!, lease: { id, token: job!.token } };
    }

    it('keeps a released job’s error with NUL and a lone surrogate, readable', async () => {
      const { h, id, lease } = await claimed();
      const ok = await h.driver.release(lease, { delayMs: 0, error: 'bad\u0000byte \uD800!' });
      expect(ok).toBe(true);
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row).toMatchObject({ id, lastError: 'bad\\u0000byte \uFFFD!' });
    });

    it('records a failure whose error holds NUL, the real error kept', async () => {
      const { h, job, lease } = await claimed();
      const record = failedRecord(h.driver.connection, job, 'error', new Error('bad\u0000byte'));
      expect(await h.driver.fail(lease, record)).toBe(true);
      const [row] = await failedJobs(h);
      expect(row!.reason).toBe('error');
      expect(row!.exception.split('\n')[0]).toBe('Error: bad\\u0000byte');
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('stores errors with their secrets masked', async () => {
      const { h, job, lease } = await claimed();
      const secret =
        'call to https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1/getMe failed; ' +
        'redis://:p@ssw0rd@cache.local:6379 refused; key sk-abcdefghijklmnopqrstuvwx rejected';
      await h.driver.release(lease, { delayMs: 0, error: secret });
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row!.lastError).toBe(
        'call to https://api.telegram.org/bot***/getMe failed; redis://:***@cache.local:6379 refused; key sk-*** rejected',
      );
      const [again] = await h.driver.claim(['default'], 1, 5_000);
      await h.driver.fail(
        { id: again!.id, token: again!.token },
        failedRecord(h.driver.connection, job, 'error', new Error(secret)),
      );
      const [failed] = await failedJobs(h);
      expect(failed!.exception).not.toMatch(/AAHdq|ssw0rd|abcdefghij/);
    });

    it('bounds a 5 MB error where it is stored, saying how much was cut', async () => {
      const { h, job, lease } = await claimed();
      const huge = 'x'.repeat(5_000_000);
      await h.driver.release(lease, { delayMs: 0, error: huge });
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row!.lastError!.length).toBeLessThanOrEqual(8_000);
      expect(row!.lastError).toMatch(/^x+…\[4,99\d,\d{3} characters cut\]$/);
      const [again] = await h.driver.claim(['default'], 1, 5_000);
      await h.driver.fail(
        { id: again!.id, token: again!.token },
        failedRecord(h.driver.connection, job, 'error', new Error(huge)),
      );
      const [failed] = await failedJobs(h);
      expect(failed!.exception.length).toBeLessThanOrEqual(64_000);
      expect(failed!.exception).toMatch(/…\[4,9\d\d,\d{3} characters cut\]$/);
    });

    it('deduplicates a unique key that holds NUL, and tells two such keys apart', async () => {
      const { driver } = harness();
      const [a] = await driver.push([unique('user\u00001')]);
      const [again] = await driver.push([unique('user\u00001')]);
      const [other] = await driver.push([unique('user\u00002')]);
      expect(a!.deduplicated).toBe(false);
      expect(again).toEqual({ id: a!.id, deduplicated: true });
      expect(other!.deduplicated).toBe(false);
      expect(other!.id).not.toBe(a!.id);
    });

    it('tells apart keys that differ only in a lone surrogate', async () => {
      const { driver } = harness();
      const results = await driver.push([unique('k\uD800'), unique('k\uDC00'), unique('k\uD800')]);
      expect(results.map((r) => r.deduplicated)).toEqual([false, false, true]);
      expect(results[2]!.id).toBe(results[0]!.id);
    });

    it('deduplicates keys longer than the 190-character column, and tells them apart', async () => {
      const { driver } = harness();
      const long = 'k'.repeat(500);
      const [a] = await driver.push([unique(`${long}-a`)]);
      const [a2] = await driver.push([unique(`${long}-a`)]);
      const [b] = await driver.push([unique(`${long}-b`)]);
      expect(a2).toEqual({ id: a!.id, deduplicated: true });
      expect(b!.deduplicated).toBe(false);
    });

    it('never takes a key that looks encoded for the key it encodes', async () => {
      const { driver } = harness();
      const long = 'k'.repeat(300);
      const [a] = await driver.push([unique(long)]);
      const [lookalike] = await driver.push([unique(storableKey(long))]);
      expect(a!.deduplicated).toBe(false);
      expect(lookalike!.deduplicated).toBe(false);
    });

    it('frees an encoded key when its job completes', async () => {
      const { driver } = harness();
      const key = `x\u0000${'y'.repeat(300)}`;
      await driver.push([unique(key)]);
      const [job] = await driver.claim(['default'], 1, 5_000);
      expect(await driver.complete([{ id: job!.id, token: job!.token }])).toEqual([job!.id]);
      expect((await driver.push([unique(key)]))[0]!.deduplicated).toBe(false);
    });

    it('takes fractional milliseconds for delays, leases and unique times', async () => {
      const { driver } = harness();
      const [pushed] = await driver.push([
        newJob({ delayMs: 0.5, unique: { key: 'frac', forMs: 1_500.25 } }),
      ]);
      expect(pushed!.deduplicated).toBe(false);
      expect((await driver.push([newJob({ unique: { key: 'frac', forMs: 0.1 } })]))[0]).toEqual({
        id: pushed!.id,
        deduplicated: true,
      });
      // A 0.5 ms delay rounds up to 1 ms: claimable almost at once.
      let job;
      for (let i = 0; i < 100 && !job; i++) {
        [job] = await driver.claim(['default'], 1, 1_000.5);
        if (!job) await new Promise((r) => setTimeout(r, 10));
      }
      expect(job).toBeDefined();
      const lease = { id: job!.id, token: job!.token };
      expect(await driver.extend([lease], 2_000.7)).toEqual([job!.id]);
      // RetryAfter(0.0001): a tenth of a millisecond.
      expect(await driver.release(lease, { delayMs: 0.1, refundAttempt: true })).toBe(true);
      const [row] = await driver.list('default', undefined, 0, 10);
      expect(Number.isInteger(row!.availableAt)).toBe(true);
    });
  });
}
