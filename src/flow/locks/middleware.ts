/*
 * withoutOverlapping: at most one job per key runs at a time, across every process on the same
 * storage. Loaded by the public entry point, so it stays light: it reaches the lock store through
 * ctx.flow and imports no storage code.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { Permanent, RetryAfter } from '../../jobs/errors.js';
import { MAX_TIMER_HELP, MAX_TIMER_MS, MAX_WAIT_HELP, MAX_WAIT_MS } from '../../jobs/limits.js';
import type { JobMiddleware } from '../../jobs/types.js';
import {
  DURATION_HELP,
  formatDuration,
  formatDurationInput,
  parseDuration,
} from '../../util/duration.js';
import { HeldLock } from './held-lock.js';

/** The lease when `expireAfter` is not given: 60 s, renewed every 20 s (as schedule entries). */
export const DEFAULT_EXPIRE_AFTER_MS = 60_000;
/** The longest a job waits before it looks at a held lock again, unless told: 1 s. */
export const DEFAULT_RELEASE_AFTER_MS = 1_000;
const MIN_EXPIRE_AFTER_MS = 1_000;
const MIN_RELEASE_AFTER_MS = 100;

export interface WithoutOverlappingOptions {
  /**
   * The lock's lease: seconds (`30`) or a duration (`'5m'`), from 1 s to about 24.8 days. It is
   * renewed every third of its length while the handler runs and freed when the handler ends,
   * so it only matters when the holder dies (kill -9, a lost host): the key is then blocked
   * until the lease runs out. Longer than any pause of the holder's event loop, or the lease
   * runs out under a live handler (logged as a warning).
   * @defaultValue 60 (seconds)
   */
  expireAfter?: number | string;
  /**
   * The longest a job that finds the lock held waits before it looks again: seconds (`1`) or a
   * duration (`'500ms'`), from 100 ms to 100 years. It waits until the holder's lease would run
   * out, or this long if that is sooner, so it runs right after a dead holder's lease ends and
   * soon after a live holder finishes. Waiting spends no attempt.
   * @defaultValue 1 (second)
   */
  releaseAfter?: number | string;
}

/** A value as a message quotes it: strings in quotes, numbers (NaN, Infinity) as they print. */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'function') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** A duration option in milliseconds, or a ConfigError naming the option, the value and the range. */
function durationMs(
  option: keyof WithoutOverlappingOptions,
  given: number | string | undefined,
  fallback: number,
  range: { min: number; max: number; help: string },
): number {
  if (given === undefined) return fallback;
  const ms =
    typeof given === 'number'
      ? given * 1000
      : typeof given === 'string'
        ? parseDuration(given)
        : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < range.min || ms > range.max) {
    throw new ConfigError(
      `withoutOverlapping: ${option} ${shown(given)} is not valid; use seconds or a duration (${DURATION_HELP}), at least ${formatDurationInput(range.min)} and ${range.help}.`,
    );
  }
  return Math.ceil(ms);
}

/**
 * A middleware that lets at most one job per key run at a time, across every worker process on
 * the same storage (SQLite file, PostgreSQL database or Redis prefix). The lock's key is the
 * job's name, then `#` and `keyOf(payload)` when `keyOf` is given (one job per name without it).
 *
 * - The lock is a lease (`expireAfter`, default 60 s): taken with a token of this attempt,
 *   renewed every third of its length while the rest of the chain and the handler run, freed
 *   when they end, whether they succeed or throw. A holder that dies stops renewing, and the key
 *   is free once the lease runs out.
 * - A job that finds the key held is put back without spending an attempt (it throws
 *   RetryAfter), to come back when the holder's lease would run out, or after `releaseAfter`
 *   (default 1 s) if that is sooner. Laravel's WithoutOverlapping spends an attempt on each
 *   such release; this one does not.
 * - If a renewal finds the lease lost (the process stalled past `expireAfter`), a warning is
 *   logged through ctx.log; the handler is not stopped.
 *
 * Errors: a ConfigError here for a `keyOf` that is not a function or a duration out of range.
 * When the job runs: a Permanent error if `keyOf` returns something other than a string or a
 * finite number, or if the runner gives no flow control (ctx.flow); an error of the storage
 * (unreachable) is the job's error, retried with its backoff.
 *
 * @example
 * ```ts
 * defineJob({
 *   name: 'account.sync',
 *   middleware: [withoutOverlapping((p) => p.accountId, { expireAfter: '2m' })],
 *   handle,
 * });
 * ```
 */
export function withoutOverlapping<P = unknown>(
  keyOf?: (payload: P) => string | number,
  options: WithoutOverlappingOptions = {},
): JobMiddleware<P> {
  if (keyOf !== undefined && typeof keyOf !== 'function') {
    throw new ConfigError(
      `withoutOverlapping takes a function as its key: withoutOverlapping((payload) => payload.userId), or nothing for one job per name at a time; got ${shown(keyOf)}.`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(
      `withoutOverlapping options must be an object such as { expireAfter: '2m', releaseAfter: '1s' }; got ${shown(options)}.`,
    );
  }
  const leaseMs = durationMs('expireAfter', options.expireAfter, DEFAULT_EXPIRE_AFTER_MS, {
    min: MIN_EXPIRE_AFTER_MS,
    max: MAX_TIMER_MS,
    help: MAX_TIMER_HELP,
  });
  const releaseAfterMs = durationMs(
    'releaseAfter',
    options.releaseAfter,
    DEFAULT_RELEASE_AFTER_MS,
    { min: MIN_RELEASE_AFTER_MS, max: MAX_WAIT_MS, help: MAX_WAIT_HELP },
  );

  return async function withoutOverlappingMiddleware(ctx, next) {
    let lockKey = ctx.name;
    if (keyOf) {
      const key = keyOf(ctx.payload);
      if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
        throw new Permanent(
          `withoutOverlapping on ${ctx.name}: keyOf returned ${shown(key)}; it must return a string or a finite number.`,
        );
      }
      lockKey = `${ctx.name}#${key}`;
    }
    if (!ctx.flow) {
      throw new Permanent(
        `withoutOverlapping on ${ctx.name}: this runner gives no flow control storage (ctx.flow), so no lock can be taken. Run the job with run queue:work, or give the Worker a flow (flowControl).`,
      );
    }
    const store = ctx.flow.store.locks;
    const token = randomUUID();
    const taken = await store.acquire(lockKey, token, leaseMs);
    if (!taken.acquired) {
      const waitMs = Math.min(taken.expiresInMs, releaseAfterMs);
      throw new RetryAfter(
        waitMs / 1000,
        `withoutOverlapping: "${lockKey}" is held by another job; trying again in ${formatDuration(waitMs)}`,
      );
    }
    const held = new HeldLock(store, lockKey, token, leaseMs, ctx.log, {
      name: ctx.name,
      id: ctx.jobId,
    });
    try {
      return await next();
    } finally {
      await held.release();
    }
  };
}
