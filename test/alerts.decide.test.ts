/**
 * What one check does to an alert (src/alerts/decide.ts): pending until the condition held for
 * `for`, firing once, resolved once, and no second firing within the cooldown.
 */
import { describe, expect, it } from 'vitest';
import { decide, type Reading } from '../src/alerts/decide.js';
import { freshRow, type AlertRow } from '../src/alerts/store.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const holds: Reading = { holds: true, value: 1500 };
const clear: Reading = { holds: false, value: 10 };

/** Runs checks at the given minutes after T0, applying each change; returns the events. */
function run(
  steps: Array<[minute: number, reading: Reading]>,
  alert: { forMs: number; cooldownMs: number },
): { events: string[]; row: AlertRow } {
  let row = freshRow('backlog', T0);
  const events: string[] = [];
  for (const [minute, reading] of steps) {
    const now = T0 + minute * MIN;
    const d = decide(row, reading, alert, now);
    if (!d.change) continue;
    events.push(`${minute}:${d.event}${d.notice ? `(${d.notice})` : ''}`);
    row = { ...row, ...d.change, version: row.version + 1, updatedAt: now };
  }
  return { events, row };
}

describe('an alert between checks', () => {
  it('without `for`, fires at the first check that finds the condition and resolves at the first that does not', () => {
    const { events } = run(
      [
        [0, holds],
        [1, holds],
        [2, holds],
        [3, clear],
        [4, clear],
      ],
      { forMs: 0, cooldownMs: 0 },
    );
    expect(events).toEqual(['0:fired(firing)', '3:resolved(resolved)']);
  });

  it('with `for`, fires only once the condition held that long without a break', () => {
    const { events, row } = run(
      [
        [0, holds],
        [4, holds],
        [5, clear], // the break starts the count again
        [6, holds],
        [10, holds],
        [11, holds],
      ],
      { forMs: 5 * MIN, cooldownMs: 0 },
    );
    expect(events).toEqual(['0:pending', '5:cleared', '6:pending', '11:fired(firing)']);
    expect(row).toMatchObject({
      state: 'firing',
      pendingSince: T0 + 6 * MIN,
      firingSince: T0 + 11 * MIN,
      lastNotifiedAt: T0 + 11 * MIN,
      notice: 'firing',
    });
  });

  it('a condition back within the cooldown stays pending until the cooldown is over: at most a firing and a resolved per cooldown', () => {
    const { events } = run(
      [
        [0, holds],
        [1, clear],
        [2, holds], // 1 minute after the resolved notification: cooling down
        [3, clear],
        [4, holds],
        [5, holds],
        [6, holds], // 5 minutes after the last notification
        [7, clear],
      ],
      { forMs: 0, cooldownMs: 5 * MIN },
    );
    expect(events).toEqual([
      '0:fired(firing)',
      '1:resolved(resolved)',
      '2:pending',
      '3:cleared',
      '4:pending',
      '6:fired(firing)',
      '7:resolved(resolved)',
    ]);
  });

  it('a check that finds nothing new changes nothing (no write but the value)', () => {
    const firing: AlertRow = { ...freshRow('backlog', T0), state: 'firing', firingSince: T0 };
    expect(decide(firing, holds, { forMs: 0, cooldownMs: 0 }, T0 + MIN)).toEqual({});
    expect(decide(freshRow('backlog', T0), clear, { forMs: 0, cooldownMs: 0 }, T0)).toEqual({});
  });
});

describe('checks whose start wanders', () => {
  it('a check a second short of `for` or the cooldown counts; one a minute short does not', () => {
    const pending: AlertRow = { ...freshRow('backlog', T0), state: 'pending', pendingSince: T0 };
    const alert = { forMs: 5 * MIN, cooldownMs: 0 };
    expect(decide(pending, holds, alert, T0 + 5 * MIN - 1000)).toMatchObject({ event: 'fired' });
    expect(decide(pending, holds, alert, T0 + 4 * MIN)).toEqual({});
    const cooling: AlertRow = { ...freshRow('backlog', T0), lastNotifiedAt: T0 };
    const cooldown = { forMs: 0, cooldownMs: 5 * MIN };
    expect(decide(cooling, holds, cooldown, T0 + 5 * MIN - 1000)).toMatchObject({ event: 'fired' });
    expect(decide(cooling, holds, cooldown, T0 + 4 * MIN)).toMatchObject({ event: 'pending' });
  });
});
