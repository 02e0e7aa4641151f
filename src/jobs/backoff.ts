import { clampWait, MAX_WAIT_HELP, MAX_WAIT_MS } from './limits.js';
import type { Backoff } from './types.js';

/**
 * Milliseconds to wait before the retry that follows attempt `attempt` (1-based), whole and at
 * most MAX_WAIT_MS (defineJob checks the settings; this holds for the worker's --backoff too).
 * Arrays: one entry per retry, the last repeats. Exponential: base·2^(attempt-1), capped at
 * max, with ± jitter share.
 */
export function backoffDelayMs(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  return clampWait(backoffSeconds(backoff, attempt, random) * 1000);
}

function backoffSeconds(backoff: Backoff, attempt: number, random: () => number): number {
  if (typeof backoff === 'number') return backoff;
  if (Array.isArray(backoff)) {
    if (backoff.length === 0) return 0;
    return backoff[Math.min(attempt, backoff.length) - 1] ?? backoff[backoff.length - 1]!;
  }
  const base = backoff.base ?? 1;
  const max = backoff.max ?? 3600;
  const jitter = Math.min(Math.max(backoff.jitter ?? 0, 0), 1);
  const seconds = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const spread = seconds * jitter * (random() * 2 - 1);
  return seconds + spread;
}

/** What `--backoff` and `QUEUE_<NAME>_BACKOFF` accept, for their messages. */
export const BACKOFF_TEXT_HELP = `seconds or a comma list of seconds (10,30,60), each ${MAX_WAIT_HELP}`;

/**
 * Reads a backoff written on the command line or in the environment: seconds (`10`) or a comma
 * list of them (`10,30,60`), each from 0 to 100 years, as defineJob takes them. Undefined when
 * the text is not one.
 */
export function parseBackoffText(value: string): number[] | undefined {
  const numbers = value
    .split(',')
    .map((s) => s.trim())
    .map((s) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN));
  return numbers.some((n) => !(n >= 0) || n * 1000 > MAX_WAIT_MS) ? undefined : numbers;
}

/** Seconds that are a stored wait: 0 or more, at most MAX_WAIT_MS. */
function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value * 1000 <= MAX_WAIT_MS;
}

/**
 * What is wrong with a backoff setting (defineJob, the config's `queues`), or undefined:
 * `backoff must be ...; got ...`.
 */
export function checkBackoff(backoff: Backoff): string | undefined {
  const help = `seconds (0 or more, ${MAX_WAIT_HELP}), a list of them, or { type: 'exponential', base, max, jitter }`;
  if (typeof backoff === 'number') {
    return isSeconds(backoff) ? undefined : `backoff must be ${help}; got ${backoff}`;
  }
  if (Array.isArray(backoff)) {
    // An index loop, not every(): a hole in the list is a missing value too.
    for (let i = 0; i < backoff.length; i++) {
      if (!isSeconds(backoff[i])) return `backoff must be ${help}; got [${backoff.join(', ')}]`;
    }
    return undefined;
  }
  if (typeof backoff !== 'object' || backoff === null || backoff.type !== 'exponential') {
    return `backoff must be ${help}; got ${JSON.stringify(backoff)}`;
  }
  for (const key of ['base', 'max'] as const) {
    if (backoff[key] !== undefined && !isSeconds(backoff[key])) {
      return `backoff.${key} must be seconds, 0 or more, ${MAX_WAIT_HELP}; got ${backoff[key]}`;
    }
  }
  const { jitter } = backoff;
  if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) {
    return `backoff.jitter must be a share from 0 to 1; got ${jitter}`;
  }
  return undefined;
}
