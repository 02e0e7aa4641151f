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

/**
 * Runs the job again after `seconds` without spending an attempt: rate limits, Telegram 429,
 * an open circuit breaker.
 */
export class RetryAfter extends Error {
  readonly [RETRY_AFTER] = true;
  constructor(
    readonly seconds: number,
    message = `Retry after ${seconds}s`,
  ) {
    super(message);
    this.name = 'RetryAfter';
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
 * The wait a RetryAfter asks for, in whole milliseconds as every backend stores them: NaN and
 * negatives wait 0, anything past 100 years (Infinity included) waits 100 years (MAX_WAIT_MS).
 * Undefined when `error` is not a RetryAfter.
 */
export function retryAfterMs(error: unknown): number | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[RETRY_AFTER] === true
  ) {
    return clampWait(Number((error as { seconds?: unknown }).seconds) * 1000);
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
