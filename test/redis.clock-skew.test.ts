/**
 * The Redis driver writes delayed jobs' scores with its estimate of the server clock (RedisClock,
 * accurate to about half a round trip). Listings and sizes judged them by the server's TIME, so
 * when the estimate ran ahead, a job released "at once" read as delayed while a claim took it
 * (a CI failure of the settle conformance test). Everything that asks "is it due?" now uses the
 * driver's clock. The skew is made wide here so the test does not depend on a busy machine.
 */
import { describe, expect, it } from 'vitest';
import type { RedisClock } from '../src/queue/redis/redis-connection.js';
import type { QueueDriver } from '../src/queue/driver.js';
import { drivers } from './conformance/drivers.js';
import { pushOne, useHarness } from './conformance/support.js';

const redis = drivers.find((d) => d.name === 'redis')!;

/** Moves the driver's clock estimate `ms` ahead of the server (the field is private). */
function skewAhead(driver: QueueDriver, ms: number): void {
  const clock = (driver as unknown as { redis: { clock: RedisClock } }).redis.clock;
  const at = clock.now();
  Object.assign(clock, { offsetMs: (clock as unknown as { offsetMs: number }).offsetMs + ms });
  expect(clock.now()).toBeGreaterThanOrEqual(at + ms);
}

describe.skipIf(!redis.available())('redis: a clock estimate ahead of the server', () => {
  const harness = useHarness(redis);

  it('a job released at once is listed and counted as pending, and is claimed', async () => {
    const h = harness();
    skewAhead(h.driver, 200);
    const id = await pushOne(h.driver);
    const [job] = await h.driver.claim(['default'], 1, 5_000);
    expect(await h.driver.release({ id, token: job!.token }, { delayMs: 0 })).toBe(true);

    expect(await h.driver.list('default', undefined, 0, 10)).toMatchObject([
      { id, state: 'pending' },
    ]);
    expect(await h.driver.list('default', 'delayed', 0, 10)).toEqual([]);
    expect(await h.driver.sizes(['default'])).toEqual([
      { queue: 'default', pending: 1, delayed: 0, reserved: 0 },
    ]);
    expect(await h.driver.claim(['default'], 1, 5_000)).toMatchObject([{ id, attempts: 2 }]);
  });

  it('a job delayed past the clock is still listed as delayed', async () => {
    const h = harness();
    skewAhead(h.driver, 200);
    const id = await pushOne(h.driver, { delayMs: 60_000 });
    expect(await h.driver.list('default', undefined, 0, 10)).toMatchObject([
      { id, state: 'delayed' },
    ]);
    expect(await h.driver.sizes(['default'])).toEqual([
      { queue: 'default', pending: 0, delayed: 1, reserved: 0 },
    ]);
  });
});
