import { intFlag } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { MAX_WAIT_MS } from '../jobs/limits.js';
import { parseDuration } from '../util/duration.js';
import { parseIsoDate } from '../util/iso-date.js';

/*
 * Parsers for the flags and arguments of the failed-job commands (queue:failed, queue:retry,
 * queue:forget). Each names the flag, the bad value and what it accepts, and exits 2.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses --since: an ISO 8601 date/time, or a duration meaning "within the last" (`2h`).
 * A bare number is a duration in seconds, never a year.
 */
export function sinceFlag(flag: string, now: () => number = Date.now) {
  return (value: string): Date => {
    const ms = parseDuration(value);
    // A duration reaching back past the first date there is means "since ever".
    if (ms !== undefined && ms > 0) return new Date(Math.max(now() - ms, -8.64e15));
    const date = parseIsoDate(value);
    if (!date) {
      throw new UsageError(
        `${flag} must be an ISO 8601 date/time such as 2026-01-31T09:00:00Z, or a duration meaning "within the last" such as 30m, 2h or 1d; got "${value}".`,
      );
    }
    return date;
  };
}

/** Parses --range `1-5`: an inclusive range of failed job ids. */
export function rangeFlag(flag: string) {
  return (value: string): [number, number] => {
    const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
    const from = Number(match?.[1]);
    const to = Number(match?.[2]);
    if (!match || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) {
      throw new UsageError(
        `${flag} must be a range of failed job ids FROM-TO with FROM ≤ TO, such as 1-5; got "${value}".`,
      );
    }
    return [from, to];
  };
}

/** Checks failed job references given as arguments: ids (`12`) or uuids. */
export function failedJobArguments(values: string[]): string[] {
  const bad = values.find((v) => !isFailedJobRef(v));
  if (bad !== undefined) {
    throw new UsageError(`A failed job is given by its id (a number) or its uuid, got "${bad}".`, {
      hint: 'Run `run queue:failed` to see the ids.',
    });
  }
  return [...new Set(values)];
}

function isFailedJobRef(value: string): boolean {
  return (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) || UUID.test(value);
}

/** The most hours --hours takes: 100 years (MAX_WAIT_MS), so the cut-off is a date. */
export const MAX_HOURS = Math.floor(MAX_WAIT_MS / 3_600_000);

/**
 * Parses the hours of queue:flush, queue:prune-failed and queue:prune-batches: 0 to MAX_HOURS.
 * 0 takes everything up to now, as Laravel's `--hours=0` does.
 */
export function hoursFlag(flag: string) {
  return intFlag(flag, { min: 0, max: MAX_HOURS });
}
