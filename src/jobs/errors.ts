/*
 * Errors a handler throws to steer what happens next. They are recognised by a global symbol,
 * not by instanceof, because a config file loaded through jiti may hold its own copy of this
 * module.
 */
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

/** A dispatch whose payload fails the job's schema. */
export class InvalidPayloadError extends Error {
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

export function retryAfterSeconds(error: unknown): number | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[RETRY_AFTER] === true
  ) {
    const s = Number((error as { seconds?: unknown }).seconds);
    return Number.isFinite(s) && s >= 0 ? s : 0;
  }
  return undefined;
}
