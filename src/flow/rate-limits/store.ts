/*
 * Keyed rate limits shared by every process on one storage (docs/rate-limits.md).
 *
 * Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one time per key).
 * A rule lets `limit` requests through per `perMs`, plus `burst` more at once:
 *
 * - emission interval T = perMs / limit, tolerance tau = burst × T (gcra.ts, in microseconds);
 * - per (limit name, key) the store keeps `tat`, the theoretical arrival time: a request at `now`
 *   conforms iff tat − now ≤ tau (a tat in the past counts as now); a conforming request moves
 *   tat to max(tat, now) + T. So no window of length `per` lets more than limit + burst through.
 * - and `backlog`, the last slot handed to a denied request: a denied request gets the slot
 *   max(backlog, tat − tau) and moves backlog one T past it, so that jobs denied together come
 *   back one interval apart, each when the key is expected to have room, never all at once.
 * - with several keys, the job comes back at the latest of their next slots (a key's backlog
 *   counting even while the key is free now); that key hands the slot out, and so does every
 *   key with a longer interval. A job back from its slot and denied again (`booked`) goes when
 *   its keys free instead. gcra.ts, decide, says why.
 * - a request at most 100 ms early is let through, booked for the moment its keys free (tat
 *   moves on from that moment), and told to wait until then (gcra.ts, graceUs).
 *
 * A whole limit can be pushed back too (`block` without a key: an upstream's 429 for the whole
 * bot): then no key of it conforms before that time.
 *
 * Times are the storage's clock: Date.now() on SQLite (the queue driver's clock), the server
 * clock on PostgreSQL, TIME on Redis.
 */

/** A rate limit from the config, checked: `limit` per `perMs`, with `burst` more at once. */
export interface RateLimitRule {
  name: string;
  /** Requests per `perMs`: a positive integer. */
  limit: number;
  /** Length of the window, in milliseconds: positive. */
  perMs: number;
  /** Requests allowed at once above the steady rate: 0 or more. */
  burst: number;
}

/** One token to take: from `rule`, for `key` ('' for a limit used without a key). */
export interface RateLimitRequest {
  rule: RateLimitRule;
  key: string;
}

/** What `take` decided. */
export type RateLimitDecision =
  | {
      allowed: true;
      /**
       * Whole milliseconds (rounded up) to wait before going: 0, or up to 100 ms when the
       * request came a moment early and was booked for when its keys free.
       */
      waitMs: number;
    }
  | {
      allowed: false;
      /**
       * Whole milliseconds (rounded up) until the moment handed to the job: the latest of its
       * keys' next slots (gcra.ts, decide).
       */
      retryAfterMs: number;
      /** The limit and key whose slot sets that moment. */
      limit: string;
      key: string;
    };

/** One key of a limit that is busy: it would not let a request through right now, or soon. */
export interface RateLimitKeyUsage {
  key: string;
  /**
   * Epoch ms (storage clock) when the key lets a request through again: the later of its own
   * time and a push-back of the whole limit.
   */
  freeAt: number;
  /** Epoch ms up to which denied jobs have been given slots (none: equal to or before freeAt). */
  backlogUntil: number;
}

/** A limit's state as `run limits:list` shows it. */
export interface RateLimitUsage {
  /** The storage clock when it was read, epoch ms. */
  now: number;
  /** Epoch ms until which the whole limit is pushed back (block without a key), if it is. */
  blockedUntil?: number;
  /** Keys still busy, the one that frees last first, at most `top` of them. */
  keys: RateLimitKeyUsage[];
}

/** How a take is asked. */
export interface RateLimitTakeOptions {
  /**
   * The job comes back from a slot an earlier denied take handed it (rateLimited sets it when
   * the job's last put-back was a rate limit's). Denied again, it goes when its keys free, not
   * after the slots handed out since: it held one of them. @defaultValue false
   */
  booked?: boolean;
}

/** Keyed rate-limit state on one storage. Every call is one atomic round trip. */
export interface RateLimitStore {
  /**
   * Takes one token from each request, all or none: when any is denied, nothing is taken and
   * the answer names the request whose key sets the moment to come back. Let through, the
   * caller must wait `waitMs` before it goes. The same (limit, key) twice in one call counts
   * once.
   */
  take(
    requests: readonly RateLimitRequest[],
    options?: RateLimitTakeOptions,
  ): Promise<RateLimitDecision>;
  /**
   * Pushes back one key of a limit, or (key undefined) the whole limit, for `ms` milliseconds
   * from now: no request of it conforms before then. A shorter push-back than one in force
   * changes nothing.
   */
  block(rule: RateLimitRule, key: string | undefined, ms: number): Promise<void>;
  /** The busiest keys of a limit: those that free last, at most `top`. */
  list(rule: RateLimitRule, top: number): Promise<RateLimitUsage>;
  /**
   * Forgets the state of a limit's key, or (key undefined) of all its keys and its push-back.
   * Resolves to false when there was nothing to forget (no such key, or no state at all).
   */
  reset(name: string, key?: string): Promise<boolean>;
}
