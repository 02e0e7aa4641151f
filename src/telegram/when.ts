/*
 * When a scheduled message goes: a Date, epoch ms, an ISO 8601 time with its offset, or a delay
 * from now ('90s', '5m', '2h', '1d'). Shared by scheduleTelegram and `run telegram:schedule`.
 */
import { DURATION_HELP, parseDuration } from '../util/duration.js';
import { isCalendarDate } from '../util/iso-date.js';

/** Latest send time accepted: a year ahead (a typo in a year is caught). */
const MAX_AHEAD_MS = 366 * 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms, or what is wrong with `at` (a sentence to show). */
export function parseWhen(at: unknown, now: number): number | string {
  let ms: number | undefined;
  if (at instanceof Date) ms = at.getTime();
  else if (typeof at === 'number') ms = at;
  else if (typeof at === 'string' && ISO.test(at))
    ms = isCalendarDate(at) ? Date.parse(at) : Number.NaN;
  if (ms !== undefined) {
    if (!Number.isFinite(ms)) return `the time ${String(at)} is not a valid date.`;
    if (ms > now + MAX_AHEAD_MS)
      return `the time ${new Date(ms).toISOString()} is more than a year ahead.`;
    return Math.round(ms);
  }
  return `expected an ISO 8601 time with its offset (2026-12-01T09:00:00Z, 2026-12-01T10:00+01:00), got ${JSON.stringify(at)}.`;
}

/** The delay `in` ('5m') from now, or what is wrong with it. */
export function parseIn(text: string, now: number): number | string {
  const ms = parseDuration(text);
  if (ms === undefined || !(ms >= 0) || ms > MAX_AHEAD_MS)
    return `expected a delay from now: ${DURATION_HELP}, at most a year; got ${JSON.stringify(text)}.`;
  return now + ms;
}
