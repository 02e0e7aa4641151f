/**
 * Leased locks (withoutOverlapping's store, issue 12) on every driver's storage: a key is held
 * by one token at a time, renewals and releases are fenced by the token, and a lease that is
 * not renewed runs out so the key can be taken again. A second connection stands for another
 * process.
 */
import { describe, expect, it } from 'vitest';
import { HeldLock } from '../../src/flow/locks/held-lock.js';
import type { LockStore } from '../../src/flow/locks/store.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { sleep, useHarness } from './support.js';

const LONG = 60_000;

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: leased locks`, () => {
    const harness = useHarness(d);
    const locks = (): LockStore => harness().driver.flow().locks;
    /** The same storage through another connection, as a second process opens it. */
    const otherLocks = async (): Promise<LockStore> => (await harness().connect()).flow().locks;

    it('gives a free key to the first token and tells the next how long the lease still runs', async () => {
      const a = locks();
      const b = await otherLocks();
      expect(await a.acquire('sync#1', 'token-a', LONG)).toEqual({ acquired: true });
      const denied = await b.acquire('sync#1', 'token-b', LONG);
      expect(denied.acquired).toBe(false);
      const { expiresInMs } = denied as { expiresInMs: number };
      expect(expiresInMs).toBeGreaterThan(LONG - 5_000);
      expect(expiresInMs).toBeLessThanOrEqual(LONG);
      // Another key is another lock.
      expect(await b.acquire('sync#2', 'token-b', LONG)).toEqual({ acquired: true });
      expect((await a.list()).map((l) => [l.key, l.token])).toEqual([
        ['sync#1', 'token-a'],
        ['sync#2', 'token-b'],
      ]);
    });

    it('lets the holder take its own lock again, its lease starting again', async () => {
      const a = locks();
      expect(await a.acquire('k', 'token-a', 2_000)).toEqual({ acquired: true });
      expect(await a.acquire('k', 'token-a', LONG)).toEqual({ acquired: true });
      const [lock] = await a.list();
      expect(lock!.expiresInMs).toBeGreaterThan(2_000);
    });

    it('renews only for the holder; a stale token changes nothing', async () => {
      const a = locks();
      const b = await otherLocks();
      await a.acquire('k', 'token-a', 2_000);
      expect(await b.renew('k', 'token-b', LONG)).toBe(false);
      expect((await a.list())[0]!.expiresInMs).toBeLessThanOrEqual(2_000);
      expect(await b.renew('other', 'token-b', LONG)).toBe(false);
      expect(await a.list()).toHaveLength(1);

      expect(await a.renew('k', 'token-a', LONG)).toBe(true);
      expect((await b.list())[0]).toMatchObject({ key: 'k', token: 'token-a' });
      expect((await b.list())[0]!.expiresInMs).toBeGreaterThan(LONG - 5_000);
    });

    it('releases only for the holder; a stale token changes nothing', async () => {
      const a = locks();
      const b = await otherLocks();
      await a.acquire('k', 'token-a', LONG);
      expect(await b.release('k', 'token-b')).toBe(false);
      expect((await b.acquire('k', 'token-b', LONG)).acquired).toBe(false);

      expect(await a.release('k', 'token-a')).toBe(true);
      expect(await a.list()).toEqual([]);
      // Released: the next token takes it at once, and the old holder's second release is stale.
      expect(await b.acquire('k', 'token-b', LONG)).toEqual({ acquired: true });
      expect(await a.release('k', 'token-a')).toBe(false);
      expect(await a.renew('k', 'token-a', LONG)).toBe(false);
      expect((await a.list()).map((l) => l.token)).toEqual(['token-b']);
    });

    it('frees a key whose lease ran out unrenewed; the old holder’s token is then stale', async () => {
      const a = locks();
      const b = await otherLocks();
      const leaseMs = 400;
      const taken = Date.now();
      await a.acquire('k', 'token-a', leaseMs);
      const denied = await b.acquire('k', 'token-b', LONG);
      expect(denied.acquired).toBe(false);
      // Held until the lease runs out, then taken by the first token to ask.
      await waitFor(async () => (await b.acquire('k', 'token-b', LONG)).acquired, {
        timeoutMs: 5_000,
        intervalMs: 20,
        message: 'the expired lock was never taken',
      });
      expect(Date.now() - taken).toBeGreaterThanOrEqual(leaseMs - 20);

      expect(await a.renew('k', 'token-a', LONG)).toBe(false);
      expect(await a.release('k', 'token-a')).toBe(false);
      expect((await a.acquire('k', 'token-a', LONG)).acquired).toBe(false);
      expect((await a.list()).map((l) => l.token)).toEqual(['token-b']);
    });

    it('does not renew a lease that already ran out', async () => {
      const a = locks();
      await a.acquire('k', 'token-a', 100);
      await sleep(250);
      expect(await a.renew('k', 'token-a', LONG)).toBe(false);
      expect(await a.list()).toEqual([]);
      expect(await a.release('k', 'token-a')).toBe(false);
    });

    it('gives a key to exactly one of many tokens asking at once, from two connections', async () => {
      const a = locks();
      const b = await otherLocks();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).acquire('contended', `token-${i}`, LONG),
        ),
      );
      expect(answers.filter((x) => x.acquired)).toHaveLength(1);
      const [lock] = await a.list();
      const winner = answers.findIndex((x) => x.acquired);
      expect(lock!.token).toBe(`token-${winner}`);
    });

    it('keeps keys any string can make apart, the same through every connection', async () => {
      const a = locks();
      const b = await otherLocks();
      const long = 'x'.repeat(500);
      const keys = [long, long + 'y', 'nul\u0000key', 'lone\ud800', 'glob*[?]\\', 'é'];
      for (const [i, key] of keys.entries()) {
        expect(await a.acquire(key, `token-${i}`, LONG)).toEqual({ acquired: true });
      }
      for (const key of keys) expect((await b.acquire(key, 'token-b', LONG)).acquired).toBe(false);
      for (const [i, key] of keys.entries()) expect(await b.release(key, `token-${i}`)).toBe(true);
      expect(await a.list()).toEqual([]);
    });

    it('renews a held lock while it is held, and warns when it finds the lease lost', async () => {
      const store = locks();
      const warnings: string[] = [];
      const log = {
        debug() {},
        info() {},
        warn: (msg: string) => warnings.push(msg),
        error() {},
      };
      const leaseMs = 1_000;
      expect(await store.acquire('job#1', 'token-a', leaseMs)).toEqual({ acquired: true });
      const held = new HeldLock(store, 'job#1', 'token-a', leaseMs, log, { name: 'job', id: '7' });
      try {
        // Three leases long: held only if it was renewed.
        await sleep(3 * leaseMs);
        expect((await store.list()).map((l) => l.token)).toEqual(['token-a']);
        expect(warnings).toEqual([]);

        // Taken from under it (as if its lease had run out while its process stalled).
        expect(await store.release('job#1', 'token-a')).toBe(true);
        expect(await store.acquire('job#1', 'token-b', LONG)).toEqual({ acquired: true });
        await waitFor(() => warnings.length > 0, { timeoutMs: 3_000 });
        expect(warnings).toEqual([
          'withoutOverlapping: job (job 7) lost its lock "job#1": the lease of 1000ms ran out before it was renewed (event loop blocked, or storage unreachable, for that long), so another job with the same key may be running too. Raise expireAfter if this job blocks its process.',
        ]);
      } finally {
        await held.release();
      }
      // Its release did not free the new holder's lock.
      expect((await store.list()).map((l) => l.token)).toEqual(['token-b']);
    });
  });
}
