/**
 * A worker's breaker reads (CachedAdmissions, src/flow/breakers/admission-cache.ts) on the
 * real SQLite store: jobs that start together share one read, a closed breaker is not read
 * again for a moment, this process's failure drops what it knew, another process's opening is
 * seen once the moment passes, and a probe is never handed to two jobs.
 */
import { describe, expect, it } from 'vitest';
import { CachedAdmissions } from '../src/flow/breakers/admission-cache.js';
import { resolveBreaker } from '../src/flow/breakers/settings.js';
import type { BreakerStore } from '../src/flow/breakers/store.js';
import { drivers } from './conformance/drivers.js';
import { useHarness } from './conformance/support.js';
import { waitFor } from './helpers/wait.js';

const sqlite = drivers.find((d) => d.name === 'sqlite')!;
const settings = resolveBreaker(
  { name: 'upstream', failures: 2, window: '1m', cooldown: '200ms' },
  'test',
);

/** The real store, counting the admits that reach it. */
function counted(store: BreakerStore) {
  const counter = { admits: 0 };
  const view: BreakerStore = {
    admit: (s) => {
      counter.admits += 1;
      return store.admit(s);
    },
    record: (s, o, p) => store.record(s, o, p),
    list: () => store.list(),
    reset: (n) => store.reset(n),
  };
  return { view, counter };
}

describe('a worker caches its breaker admissions', () => {
  const harness = useHarness(sqlite);

  it('jobs that start together share one read of a closed breaker', async () => {
    const { view, counter } = counted(harness().driver.flow().breakers);
    const cache = new CachedAdmissions(view, 60_000);
    const admissions = await Promise.all(Array.from({ length: 8 }, () => cache.admit(settings)));
    expect(admissions).toEqual(Array.from({ length: 8 }, () => ({ run: true })));
    expect(await cache.admit(settings)).toEqual({ run: true });
    expect(counter.admits).toBe(1);
  });

  it("this process's failure makes the next job read the storage, and it sees the breaker open", async () => {
    const { view, counter } = counted(harness().driver.flow().breakers);
    const cache = new CachedAdmissions(view, 60_000);
    expect(await cache.admit(settings)).toEqual({ run: true });
    await cache.record(settings, 'failure');
    await cache.record(settings, 'failure');
    expect(await cache.admit(settings)).toMatchObject({ run: false, state: 'open' });
    expect(counter.admits).toBe(2);
  });

  it("another process's opening is seen once the cached moment has passed", async () => {
    const h = harness();
    const other = (await h.connect()).flow().breakers;
    const cache = new CachedAdmissions(h.driver.flow().breakers, 50);
    expect(await cache.admit(settings)).toEqual({ run: true });
    await other.record(settings, 'failure');
    await other.record(settings, 'failure');
    const seen = await waitFor(
      async () => {
        const a = await cache.admit(settings);
        return a.run ? undefined : a;
      },
      { timeoutMs: 2_000, message: 'the open breaker was never seen' },
    );
    expect(seen).toMatchObject({ run: false, state: 'open' });
  });

  it('after the cooldown exactly one of the jobs that start together probes', async () => {
    const h = harness();
    const cache = new CachedAdmissions(h.driver.flow().breakers, 60_000);
    await cache.record(settings, 'failure');
    await cache.record(settings, 'failure');
    await waitFor(async () => (await h.driver.flow().breakers.list())[0]?.state === 'half-open', {
      timeoutMs: 5_000,
      message: 'the cooldown did not end',
    });
    const admissions = await Promise.all(Array.from({ length: 6 }, () => cache.admit(settings)));
    expect(admissions.filter((a) => a.run && a.probe !== undefined)).toHaveLength(1);
    expect(admissions.filter((a) => a.run)).toHaveLength(1);
  });
});
