import { afterEach, describe, expect, it, vi } from 'vitest';
import { SchedulerClock } from '../src/schedule/clock.js';

describe('SchedulerClock', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads whole milliseconds when the round trip’s midpoint falls on a half', async () => {
    // The database answers 1795416412895 between local readings 1000 and 1001: the midpoint is
    // 1000.5, which made the offset, and every time derived from it, end in .5.
    const readings = [1000, 1001, 5000];
    vi.spyOn(Date, 'now').mockImplementation(() => readings.shift() ?? 5000);
    const clock = await SchedulerClock.create({}, async () => 1_795_416_412_895);
    const now = clock.now();
    expect(Number.isInteger(now)).toBe(true);
    expect(Math.abs(now - (1_795_416_412_895 + 4000 - 0.5))).toBeLessThanOrEqual(0.5);
  });

  it('reads whole milliseconds when pinned by JOBSMITH_NOW', async () => {
    const clock = await SchedulerClock.create({ JOBSMITH_NOW: '2030-01-01T00:00:05.250Z' });
    expect(Number.isInteger(clock.now())).toBe(true);
  });
});
