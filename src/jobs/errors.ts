/*
 * Errors a handler throws to steer what happens next. They are recognised by a global symbol,
 * not by instanceof, because a config file loaded through jiti may hold its own copy of this
 * module.
 */
import { clampWait } from './limits.js';

const PERMANENT = Symbol.for('jobsmith.permanent');
const RETRY_AFTER = Symbol.for('jobsmith.retryAfter');
const SKIPPED = Symbol.for('jobsmith.skipped');

/** Fails the job at once: no retries, straight to failed jobs. */
export class Permanent extends Error {
  readonly [PERMANENT] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Permanent';
  }
}

/** What a RetryAfter pushes back besides its own job: a rate limit's key, or the whole limit. */
export interface RetryAfterOptions {
  /** Name of a limit in the config's `rateLimits`: every job on it waits too. */
  limit?: string;
  /** The key of `limit` to push back (a chat id...); without it, the whole limit waits. */
  key?: string | number;
  /** The error's message. @defaultValue 'Retry after <seconds>s' */
  message?: string;
}

/**
 * Runs the job again after `seconds` without spending an attempt: rate limits, Telegram 429,
 * an open circuit breaker. `seconds` is a finite number of 0 or more (fractions allowed; the
 * wait is stored in whole milliseconds, rounded up, at most 100 years); anything else throws a
 * RangeError at once.
 *
 * With `{ limit, key }` (an upstream's 429 with its retry_after) the worker also pushes back
 * that key of the named rate limit for `seconds`, or the whole limit when no key is given, so
 * every other job on it waits too (docs/rate-limits.md). A second argument that is a string is
 * the message, as before.
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new RetryAfter(body.parameters.retry_after, { limit: 'telegram.chat', key: chatId });
 * ```
 */
export class RetryAfter extends Error {
  readonly [RETRY_AFTER] = true;
  /** The rate limit (and key) to push back with the job, if any. */
  readonly pushBack?: { limit: string; key?: string };

  constructor(
    readonly seconds: number,
    options: string | RetryAfterOptions = {},
  ) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(
        `RetryAfter takes seconds, a finite number of 0 or more; got ${typeof seconds === 'number' ? String(seconds) : JSON.stringify(seconds)}. To give up on the job, throw Permanent instead.`,
      );
    }
    const o = typeof options === 'string' ? { message: options } : options;
    super(o.message ?? `Retry after ${seconds}s`);
    this.name = 'RetryAfter';
    if (o.limit !== undefined || o.key !== undefined) {
      if (typeof o.limit !== 'string' || o.limit === '')
        throw new RangeError(
          `RetryAfter's limit must be the name of a rate limit in the config, got ${JSON.stringify(o.limit) ?? String(o.limit)}.`,
        );
      if (o.key !== undefined && typeof o.key !== 'string' && !Number.isFinite(o.key))
        throw new RangeError(
          `RetryAfter's key must be a string or a finite number, got ${JSON.stringify(o.key) ?? String(o.key)}.`,
        );
      this.pushBack = { limit: o.limit, ...(o.key === undefined ? {} : { key: String(o.key) }) };
    }
  }
}

/** How a RateLimitExceeded message begins: the job's stored last error says it was put back. */
const RATE_LIMIT_EXCEEDED = 'Rate limit ';

/**
 * Thrown by rateLimited when a limit has no room: the job is put back for `ms` (when the key is
 * expected to have room) without spending an attempt. It pushes nothing back: the limit's own
 * state already says when the key frees.
 */
export class RateLimitExceeded extends RetryAfter {
  constructor(
    readonly ms: number,
    readonly limit: string,
    readonly key: string,
  ) {
    super(
      ms / 1000,
      `${RATE_LIMIT_EXCEEDED}${limit}${key === '' ? '' : ` (key ${key})`}: no room for ${ms}ms`,
    );
    this.name = 'RateLimitExceeded';
  }

  /** Whether a job's stored last error (ctx.lastError) is a RateLimitExceeded's message. */
  static isMessage(lastError: string | null | undefined): boolean {
    return (
      lastError?.startsWith(RATE_LIMIT_EXCEEDED) === true && lastError.includes(': no room for ')
    );
  }
}

/**
 * A middleware called `next()` a second time: the handler would run twice in one attempt. A
 * Permanent error, so the job fails at once: a retry would run the same code into the same
 * mistake.
 */
export class MiddlewareNextError extends Permanent {
  constructor(job: string, index: number) {
    super(
      `Job ${job}: middleware[${index}] called next() more than once; call it once and await (or return) its result.`,
    );
    this.name = 'MiddlewareNextError';
  }
}

/**
 * Thrown by skipIf to drop a job without running its handler: the worker deletes it as it
 * would a completed one and reports it skipped (job:skipped), never failed.
 */
export class JobSkipped extends Error {
  readonly [SKIPPED] = true;
  constructor(readonly reason?: string) {
    super(reason ? `Skipped: ${reason}` : 'Skipped');
    this.name = 'JobSkipped';
  }
}

/** The handler ran past its timeout. */
export class JobTimeoutError extends Error {
  constructor(seconds: number) {
    super(`Job timed out after ${seconds}s`);
    this.name = 'JobTimeoutError';
  }
}

/** The payload failed its schema, the job name is unknown, or the payload is not JSON. */
export class PoisonJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonJobError';
  }
}

/**
 * A dispatch that cannot be stored as asked, refused before anything is written: an option out
 * of its range (queue, priority, tries, delay, at), or a bad payload (InvalidPayloadError).
 */
export class InvalidDispatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDispatchError';
  }
}

/**
 * A dispatch whose payload fails the job's schema, or would not read back the same from the
 * JSON it is stored as (a Date, a Map, NaN...).
 */
export class InvalidPayloadError extends InvalidDispatchError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

export function isPermanent(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[PERMANENT] === true
  );
}

/**
 * The wait a RetryAfter asks for, in whole milliseconds as every backend stores them: rounded
 * up, so the job never runs before the time asked (a rate limit's "free in 33.334 ms" waits
 * 34 ms), and anything past 100 years waits 100 years (MAX_WAIT_MS). (The constructor refuses
 * a negative or non-finite number; one that came through some other way waits 0.) Undefined
 * when `error` is not a RetryAfter.
 */
export function retryAfterMs(error: unknown): number | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[RETRY_AFTER] === true
  ) {
    // The seconds × 1000 of a whole number of ms may land a hair above it (0.007 × 1000 =
    // 7.000000000000001): such noise is not rounded up to one more millisecond.
    return clampWait(Math.ceil(Number((error as { seconds?: unknown }).seconds) * 1000 - 1e-6));
  }
  return undefined;
}

/**
 * The rate limit (and key) a RetryAfter asks to push back with its job, or undefined: not a
 * RetryAfter, or one without `{ limit }`.
 */
export function pushBackOf(error: unknown): { limit: string; key?: string } | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[RETRY_AFTER] === true
  ) {
    const { pushBack } = error as { pushBack?: { limit: string; key?: string } };
    return pushBack;
  }
  return undefined;
}

/**
 * Whether `error` is a JobSkipped, and its reason: `{ reason }` (the reason may be undefined),
 * or undefined when it is not one.
 */
export function skipOf(error: unknown): { reason?: string } | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[SKIPPED] === true
  ) {
    const { reason } = error as { reason?: unknown };
    return typeof reason === 'string' ? { reason } : {};
  }
  return undefined;
}
