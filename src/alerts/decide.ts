/*
 * What one check does to one alert, given its stored row and what its condition measured.
 * Pure: the checker stores the change (fenced by the row's version) and sends the notice.
 *
 *   ok      ─holds─▶ pending ─held for `for`, cooled down─▶ firing   (notice: firing)
 *   pending ─false─▶ ok                                               (no notice)
 *   firing  ─false─▶ ok                                               (notice: resolved)
 *
 * With `for` 0 an alert goes from ok to firing in one check. Both durations are measured
 * between checks, whose start wanders by a second or two (cron starts a process each minute):
 * a check up to SLACK_MS short of one counts (a tenth of it for durations under 50s), so
 * `for: '5m'` checked every minute fires at the fifth check after the one that saw it first. `cooldown`: after a notification
 * the alert does not fire again before the cooldown has passed; a condition that comes back
 * sooner keeps it pending, so a flapping condition sends at most a firing and a resolved per
 * cooldown, never one per check.
 */
import type { AlertChange, AlertRow, Notice } from './store.js';

/** What a condition measured: whether it holds, and the value it compared (null: no data). */
export interface Reading {
  holds: boolean;
  value: number | null;
}

/** What changed, in words: ok → pending, → firing, firing → ok, pending → ok. */
export type AlertEvent = 'pending' | 'fired' | 'resolved' | 'cleared';

export type Decision =
  { change?: undefined } | { change: AlertChange; event: AlertEvent; notice?: Notice };

/** How much short of `for` or `cooldown` a check may come and still count. */
export const SLACK_MS = 5_000;

/** Whether `elapsed` ms reach `duration`, give or take the slack. */
function reached(elapsed: number, duration: number): boolean {
  return elapsed + Math.min(SLACK_MS, duration / 10) >= duration;
}

export function decide(
  row: AlertRow,
  reading: Reading,
  alert: { forMs: number; cooldownMs: number },
  now: number,
): Decision {
  const lastValue = reading.value;
  const cooled = row.lastNotifiedAt === null || reached(now - row.lastNotifiedAt, alert.cooldownMs);
  const fire = (pendingSince: number): Decision => ({
    change: {
      state: 'firing',
      pendingSince,
      firingSince: now,
      resolvedAt: null,
      lastNotifiedAt: now,
      lastValue,
      notice: 'firing',
      noticeAt: now,
    },
    event: 'fired',
    notice: 'firing',
  });
  if (reading.holds) {
    if (row.state === 'ok') {
      if (alert.forMs === 0 && cooled) return fire(now);
      return { change: { state: 'pending', pendingSince: now, lastValue }, event: 'pending' };
    }
    if (row.state === 'pending') {
      const since = row.pendingSince ?? now;
      if (reached(now - since, alert.forMs) && cooled) return fire(since);
    }
    return {};
  }
  if (row.state === 'pending')
    return { change: { state: 'ok', pendingSince: null, lastValue }, event: 'cleared' };
  if (row.state === 'firing')
    return {
      change: {
        state: 'ok',
        pendingSince: null,
        resolvedAt: now,
        lastNotifiedAt: now,
        lastValue,
        notice: 'resolved',
        noticeAt: now,
      },
      event: 'resolved',
      notice: 'resolved',
    };
  return {};
}
