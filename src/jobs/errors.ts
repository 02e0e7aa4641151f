/*
 * Errors a handler throws to steer what happens next. They are recognised by a global symbol,
 * not by instanceof, because a config file loaded through jiti may hold its own copy of this
 * module.
 */
import { clampWait } from './limits.js';

const PERMANENT = Symbol.for('jobsmith.permanent');
const RETRY_AFTER = Symbol.for('jobsmith.retryAfter');

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
