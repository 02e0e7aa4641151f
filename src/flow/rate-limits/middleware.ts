/*
 * The rateLimited job middleware. Loaded by the public entry point, so it stays light: no
 * storage code. It reaches the storage's rate-limit store through `ctx.flow`.
 */
import { ConfigError } from '../../errors.js';
import { Permanent, RateLimitExceeded } from '../../jobs/errors.js';
import type { JobMiddleware, MiddlewareContext } from '../../jobs/types.js';
import { sleep } from '../../util/sleep.js';
import type { RateLimitRequest } from './store.js';

/**
 * Marks a rateLimited middleware with the limit names it takes (a string[]), so that loading
 * the config can refuse a name `rateLimits` does not declare. A global symbol, as a config file
 * loaded through jiti may hold its own copy of this module.
 */
export const RATE_LIMITS_USED = Symbol.for('jobsmith.rateLimits');

/** The limit names a middleware function takes, if it is a rateLimited one. */
export function rateLimitsUsed(middleware: unknown): readonly string[] | undefined {
  if (typeof middleware !== 'function') return undefined;
  const names = (middleware as unknown as Record<symbol, unknown>)[RATE_LIMITS_USED];
  return Array.isArray(names) ? (names as string[]) : undefined;
}

/** The key of a job for one limit: a string or a finite number (`p => p.chatId`). */
export type RateLimitKeyOf<P> = (payload: P, ctx: MiddlewareContext<P>) => string | number;

/** One limit a job takes: its name alone (one key for all jobs), or with a key function. */
export type RateLimitUse<P> = string | { limit: string; key?: RateLimitKeyOf<P> };

/** How rateLimited is asked to behave. */
export interface RateLimitedOptions {
  /**
   * The most a job may start after the moment its take booked, in ms, counted from when the
   * take was asked: the round trip to the storage, the wait for a slot booked ahead and the
   * worker's own lateness all count. Later (a cold or starved process, a slow storage), the job
   * does not run in that slot, which stays spent: it asks again at once, as a job back from a
   * slot; after three slots missed in a row it is put back (RateLimitExceeded, no attempt
   * spent) to come back at once. Use it when the limit mirrors an upstream that counts arrivals
   * in a strict window, so that late starts do not bunch with the punctual ones after them.
   * @defaultValue no bound
   */
  maxLateMs?: number;
}

/** Missed slots in a row before the job is put back instead of asking again at once. */
const MAX_MISSES = 3;

/** Longest key kept: PostgreSQL indexes the key, and a btree entry must stay small. */
const MAX_KEY_LENGTH = 1000;

/**
 * A run-time problem with a rateLimited middleware: no storage behind the worker, a limit the
 * worker's config does not declare, or a key that is not a string or a number. Permanent: a
 * retry would meet the same problem; fix it, then `run queue:retry` the job.
 */
export class RateLimitError extends Permanent {
  constructor(message: string) {
    super(message);
    this.name = 'RateLimitError';
  }
}

/**
 * A middleware that takes a token from one or more of the config's `rateLimits` before the
 * job runs, shared by every worker on the same storage (GCRA; docs/rate-limits.md).
 *
 * - `rateLimited('openai')`: one limit, one key for every job.
 * - `rateLimited('telegram.chat', (p) => p.chatId)`: one limit per key (string or number).
 * - `rateLimited(['telegram.global', { limit: 'telegram.chat', key: (p) => p.chatId }])`:
 *   several limits in one step, all or none: when any is out of tokens none is taken.
 *
 * When a limit has no room the job is put back, WITHOUT spending an attempt, to run when the
 * key is expected to have room (jobs denied together come back one interval apart; a job back
 * from such a slot and denied again goes when its keys free, not to the back of the line);
 * the worker's idle wait finds it then, with no polling. Keys that free within 100 ms are
 * booked for that moment and waited for in the worker instead. A handler that meets an
 * upstream's 429 throws `new RetryAfter(seconds, { limit, key })` to push the key back for
 * every job.
 *
 * Options (the third argument, the second after a list): `maxLateMs`, the most a job may start
 * after its slot (RateLimitedOptions).
 *
 * Throws ConfigError at once for a bad argument. When the job runs: RateLimitError (Permanent)
 * if the worker has no flow control, the limit is not declared, or the key is not a string or a
 * finite number; an error from `keyOf` is the job's error, as in a handler.
 */
export function rateLimited<P = unknown>(
  limit: string,
  keyOf?: RateLimitKeyOf<P>,
  options?: RateLimitedOptions,
): JobMiddleware<P>;
export function rateLimited<P = unknown>(
  limits: readonly RateLimitUse<P>[],
  options?: RateLimitedOptions,
): JobMiddleware<P>;
export function rateLimited<P = unknown>(
  limit: string | readonly RateLimitUse<P>[],
  keyOrOptions?: RateLimitKeyOf<P> | RateLimitedOptions,
  listOptions?: RateLimitedOptions,
): JobMiddleware<P> {
  // A list's second argument is its options; a function there is a key misplaced (normalise).
  const optionsSecond = Array.isArray(limit) && typeof keyOrOptions !== 'function';
  const keyOf = optionsSecond ? undefined : (keyOrOptions as RateLimitKeyOf<P> | undefined);
  const options = optionsSecond ? (keyOrOptions as RateLimitedOptions | undefined) : listOptions;
  const uses = normalise(limit, keyOf);
  const maxLateMs = checkedMaxLate(options);
  const names = [...new Set(uses.map((u) => u.limit))];
  const middleware: JobMiddleware<P> = async function rateLimitedMiddleware(ctx, next) {
    const flow = ctx.flow;
    if (!flow) {
      throw new RateLimitError(
        `Job ${ctx.name}: rateLimited(${quoted(names)}) has no storage to keep its limits in (ctx.flow is undefined). Run it with run queue:work, or give the Worker flow: flowControl(driver, rules, emit).`,
      );
    }
    const requests = uses.map((use): RateLimitRequest => {
      const rule = flow.rateLimits.get(use.limit);
      if (!rule) {
        const known = [...flow.rateLimits.keys()];
        throw new RateLimitError(
          `Job ${ctx.name}: rateLimited('${use.limit}') names a limit the config does not declare (declared: ${known.join(', ') || 'none'}). Add it to defineConfig({ rateLimits }).`,
        );
      }
      return { rule, key: use.key ? keyText(use.key(ctx.payload, ctx), use.limit, ctx.name) : '' };
    });
    // Back from a slot a denied take handed it: denied again, it keeps its place in line.
    let booked = RateLimitExceeded.isMessage(ctx.lastError);
    for (let missed = 0; ; missed++) {
      const asked = performance.now();
      const decision = await flow.store.rateLimits.take(requests, { booked });
      if (!decision.allowed)
        throw new RateLimitExceeded(decision.retryAfterMs, decision.limit, decision.key);
      // Booked for a moment a few ms ahead (its keys free then): wait for it here, holding the
      // claim, rather than pay a release and a claim and lose the moment.
      if (decision.waitMs > 0) await sleep(decision.waitMs, ctx.signal);
      // The slot is no earlier than `asked + waitMs` (the store decided after it was asked).
      const late = performance.now() - asked - decision.waitMs;
      if (maxLateMs === undefined || late <= maxLateMs) return next();
      // Too late for its slot: run in it, and this job's request would reach the upstream in
      // the same moment as the punctual ones booked after it. It held a slot: it asks again as
      // a job back from one.
      if (missed + 1 >= MAX_MISSES) {
        const first = requests[0]!;
        throw new RateLimitExceeded(0, first.rule.name, first.key);
      }
      booked = true;
    }
  };
  Object.defineProperty(middleware, RATE_LIMITS_USED, { value: names });
  return middleware;
}

function checkedMaxLate(options: RateLimitedOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(
      `rateLimited's options are an object such as { maxLateMs: 50 }, got ${JSON.stringify(options) ?? String(options)}.`,
    );
  const { maxLateMs } = options;
  if (maxLateMs === undefined) return undefined;
  if (typeof maxLateMs !== 'number' || !Number.isFinite(maxLateMs) || maxLateMs < 0)
    throw new ConfigError(
      `rateLimited's maxLateMs is a number of milliseconds, 0 or more, got ${JSON.stringify(maxLateMs) ?? String(maxLateMs)}.`,
    );
  return maxLateMs;
}

function normalise<P>(
  limit: string | readonly RateLimitUse<P>[],
  keyOf: RateLimitKeyOf<P> | undefined,
): Array<{ limit: string; key?: RateLimitKeyOf<P> }> {
  const usage =
    "rateLimited takes a limit name and an optional key function, rateLimited('telegram.chat', (p) => p.chatId), or a list: rateLimited(['telegram.global', { limit: 'telegram.chat', key: (p) => p.chatId }])";
  if (keyOf !== undefined && typeof keyOf !== 'function')
    throw new ConfigError(`${usage}; the key function is a ${typeof keyOf}.`);
  if (typeof limit === 'string') {
    if (limit === '') throw new ConfigError(`${usage}; the limit name is empty.`);
    return [{ limit, key: keyOf }];
  }
  if (!Array.isArray(limit) || limit.length === 0)
    throw new ConfigError(`${usage}; got ${JSON.stringify(limit) ?? String(limit)}.`);
  if (keyOf !== undefined)
    throw new ConfigError(`${usage}; with a list, give each limit its own key: { limit, key }.`);
  return limit.map((use: RateLimitUse<P>, index) => {
    if (typeof use === 'string' && use !== '') return { limit: use };
    if (
      typeof use === 'object' &&
      use !== null &&
      typeof use.limit === 'string' &&
      use.limit !== '' &&
      (use.key === undefined || typeof use.key === 'function')
    )
      return { limit: use.limit, key: use.key };
    throw new ConfigError(
      `${usage}; entry ${index} is neither a limit name nor { limit: string, key?: function }.`,
    );
  });
}

/** The key as stored: a string or a finite number, as text. */
function keyText(value: unknown, limit: string, job: string): string {
  const problem =
    typeof value === 'string'
      ? value.length > MAX_KEY_LENGTH
        ? `at most ${MAX_KEY_LENGTH} characters, got ${value.length}`
        : value.includes('\u0000')
          ? 'free of NUL characters (PostgreSQL cannot store them)'
          : undefined
      : typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `a string or a finite number, got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`;
  if (problem)
    throw new RateLimitError(`Job ${job}: the key of rate limit '${limit}' must be ${problem}.`);
  return String(value);
}

const quoted = (names: readonly string[]) =>
  names.length === 1 ? `'${names[0]}'` : `[${names.map((n) => `'${n}'`).join(', ')}]`;
