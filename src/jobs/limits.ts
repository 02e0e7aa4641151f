/**
 * The one range of every value a user gives jobsmith, checked the same way wherever it comes in:
 * defineJob, dispatch options, schedule entries, the command line and the drivers. Each check
 * returns what is wrong in words (or undefined), and the entry point wraps it in its own error:
 * ConfigError in a config file, InvalidDispatchError from dispatch, UsageError (exit 2) on the
 * command line. The README's "Limits" table mirrors this file.
 */
import { MAX_TIMER_MS } from '../util/timers.js';

/**
 * Queue names: letters, digits and `. _ -`, at most 190 characters (the SQL column). No `:`,
 * which Redis (BullMQ) keeps as its key separator, so a queue can move to Redis later; no
 * spaces or commas, which the command line uses to list queues.
 */
export const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,190}$/;
export const QUEUE_NAME_HELP = 'letters, digits and . _ - (at most 190 characters)';
/** Added to a refusal of a queue name that holds ":". */
export const QUEUE_COLON_NOTE = ' No ":": Redis keeps it as its key separator.';

/** Job names and schedule entry names: as queue names, and `:` too. */
export const JOB_NAME = /^[A-Za-z0-9_.:-]{1,190}$/;
export const JOB_NAME_HELP = 'letters, digits and . _ : - (at most 190 characters)';

/**
 * Priorities: ±1,048,575, the most Redis (BullMQ) can order; SQLite and PostgreSQL could hold
 * more, but a job must be able to move between backends. The redis driver imports it.
 */
export const MAX_PRIORITY = 1_048_575;
export const PRIORITY_HELP = `a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`;

/** Tries (attempts in all): at least 1, at most a million (attempts are 32-bit in SQL). */
export const MAX_TRIES = 1_000_000;
export const TRIES_HELP = `a whole number from 1 to ${MAX_TRIES}`;

/**
 * Durations that arm a timer (a job's timeout, a lease, --sleep, --grace...): at most
 * MAX_TIMER_MS, about 24.8 days, the longest a Node.js timer can wait.
 */
export { MAX_TIMER_MS };
export const MAX_TIMER_HELP = `at most ${MAX_TIMER_MS}ms (about 24.8 days), the longest a timer can wait`;

/**
 * Waits that are stored rather than timed (a dispatch's delay, backoff, RetryAfter, unique.for):
 * at most 100 years, in whole milliseconds, so every due time is a date every backend can store
 * and print.
 */
export const MAX_WAIT_MS = 100 * 365.25 * 86_400_000;
export const MAX_WAIT_HELP = 'at most 100 years';

export function isQueueName(value: unknown): value is string {
  return typeof value === 'string' && QUEUE_NAME.test(value);
}

export function isJobName(value: unknown): value is string {
  return typeof value === 'string' && JOB_NAME.test(value);
}

export function isPriority(value: unknown): value is number {
  return Number.isInteger(value) && Math.abs(value as number) <= MAX_PRIORITY;
}

export function isTries(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TRIES;
}

/**
 * What is wrong with a queue name, or undefined: `queue "x y" is not a queue name; use ...`.
 * `subject` names where it came from (`--queue "x y"`).
 */
export function queueNameProblem(
  value: unknown,
  subject = `queue ${JSON.stringify(value)}`,
): string | undefined {
  if (isQueueName(value)) return undefined;
  if (typeof value === 'string' && value.includes(':') && QUEUE_NAME.test(value.replace(/:/g, '')))
    return `${subject} holds ":", which Redis keeps as its key separator; use ${QUEUE_NAME_HELP}`;
  return `${subject} is not a queue name; use ${QUEUE_NAME_HELP}`;
}

/**
 * The command-line form: `${subject} letters, digits...; got "a b".`, where `subject` is
 * `--queue must be a queue name:` or `Queue names must be`.
 */
export function queueUsageProblem(value: string, subject: string): string | undefined {
  if (QUEUE_NAME.test(value)) return undefined;
  const colon = value.includes(':') ? QUEUE_COLON_NOTE : '';
  return `${subject} ${QUEUE_NAME_HELP}; got "${value}".${colon}`;
}

/**
 * What is wrong with a duration in ms that arms a timer, or undefined. `what` names it
 * (`timeout`, `QUEUE_LEASE`).
 */
export function timerProblem(ms: number, what: string): string | undefined {
  if (!Number.isFinite(ms) || ms <= 0) return `${what} must be a positive duration`;
  if (ms > MAX_TIMER_MS) return `${what} must be ${MAX_TIMER_HELP}`;
  return undefined;
}

/** What is wrong with a stored wait in ms, or undefined. */
export function waitProblem(ms: number, what: string): string | undefined {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0)
    return `${what} must be a duration of 0 or more`;
  if (ms > MAX_WAIT_MS) return `${what} must be ${MAX_WAIT_HELP}`;
  return undefined;
}

/**
 * A stored wait as every backend can hold it: whole milliseconds from 0 to MAX_WAIT_MS. For
 * waits that come from a running handler (RetryAfter, backoff), where refusing is too late:
 * NaN and negatives become 0, anything longer (Infinity included) the longest wait.
 */
export function clampWait(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(Math.round(ms), MAX_WAIT_MS);
}
