/**
 * Glossary — the words used across the code base:
 *
 * - **job definition**: what `defineJob` returns: a name, a handler and its defaults.
 * - **job**: one dispatched unit of work: a definition's name plus a payload, stored by a driver.
 * - **queue**: a named list of jobs (`default`, `telegram`...). A worker serves one or more.
 * - **driver**: the storage a connection uses for its jobs (`database`, `redis`, `sync`).
 * - **worker**: the long-running process (`run queue:work`) that claims and runs jobs.
 * - **claim**: a worker taking a job; it holds a **lease** until `reserved_until`, renewed by a
 *   heartbeat, and a **token** that fences its settling writes.
 * - **attempt**: one claim of a job; counted when claimed, the first attempt is 1.
 * - **failed job**: a job that ran out of tries or failed permanently, kept in `failed_jobs`.
 */
import type { z } from 'zod';
import type { FlowControl } from '../flow/types.js';
import type { BreakerOptions, BreakerSettings } from '../flow/breakers/settings.js';
import type { RetainOptions } from '../history/retention.js';
import type { WorkflowStep } from '../workflows/step.js';

/** Backoff between retries: seconds per retry (the last one repeats) or an exponential curve. */
export type Backoff =
  | number
  | number[]
  | {
      type: 'exponential';
      /** Seconds before the first retry. @defaultValue 1 */
      base?: number;
      /** Upper bound in seconds. @defaultValue 3600 */
      max?: number;
      /** Random share (0–1) added or removed to spread retries. @defaultValue 0 */
      jitter?: number;
    };

export interface JobLogger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface DispatchOptions {
  /** Queue to push onto (letters, digits and . _ -); overrides the definition's queue. */
  queue?: string;
  /**
   * Delay before the job may run, in milliseconds or as a duration string (`30s`); at most 100
   * years. Not with `at`.
   */
  delay?: number | string;
  /** Moment before which the job must not run: a Date, an ISO 8601 string or epoch ms. Not with `delay`. */
  at?: Date | string | number;
  /** Higher runs first within a queue, from -1048575 to 1048575. @defaultValue 0 */
  priority?: number;
  /** Attempts in all, the first included (1 to 1,000,000); overrides the definition. */
  tries?: number;
  /** Queue connection to use (`database`, `redis`, `sync`); defaults to QUEUE_CONNECTION. */
  connection?: string;
  /**
   * Tags to find the job by (`queue:list --tag`), added to the job's own `tags(payload)`;
   * at most 20, each 1 to 100 characters. @defaultValue none
   */
  tags?: string[];
}

export interface DispatchResult {
  /** The job's id in its driver. */
  id: string;
  /** True when a unique job with the same key existed and no new job was stored. */
  deduplicated: boolean;
}

export interface JobContext {
  /** Fires when the job times out or the worker shuts down past its grace. */
  signal: AbortSignal;
  /** 1-based attempt number. */
  attempt: number;
  jobId: string;
  queue: string;
  log: JobLogger;
  /**
   * Reports how far the job got: a number (a percentage, say) or a JSON object. Shown by
   * `queue:show` and `queue:list`. Writes are throttled to about 4 a second per job; the latest
   * value is kept and written before the job settles. Resolves once the value is written or
   * held for the next write; never rejects for the storage (a lost write is logged).
   */
  progress(value: number | Record<string, unknown>): Promise<void>;
  /** Dispatches another job on the same connection. */
  dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult>;
  /**
   * The batch this job belongs to (a job dispatched by `batch(...)`, or one of its
   * then/catch/finally callbacks); undefined outside batches. See BatchContext.
   */
  readonly batch?: BatchContext;
}

/**
 * `ctx.batch`: the batch a job runs in (docs/workflows.md, "Batches"). The counts are as they
 * were when the job started: for a batch job, read at most about a second before (each worker
 * reads a batch's row at most once a second); for a callback, read when it started.
 */
export interface BatchContext {
  /** The batch's id (a UUID), as `batch(...).dispatch()` returned it. */
  readonly id: string;
  /** The name given with `.name(...)`; null when none was. */
  readonly name: string | null;
  /** Jobs in the batch, added ones included. */
  readonly total: number;
  /** Jobs without a final outcome yet (this one included while it runs). */
  readonly pending: number;
  /** Jobs that finally failed. */
  readonly failed: number;
  /** Share of the jobs that have their final outcome, 0 to 100, rounded down. */
  readonly progress: number;
  /** Whether the batch is cancelled now (reads the storage each call). */
  cancelled(): Promise<boolean>;
  /**
   * Adds jobs to the batch (a job that finds more work: the pages of an import); they count in
   * its total and its callbacks wait for them. Resolves with their ids.
   *
   * @throws ConfigError when the batch has already finished (from a callback, say), or a value
   * is not made by step().
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  add(steps: ReadonlyArray<WorkflowStep<any>>): Promise<string[]>;
}

export interface JobOptions<P> {
  /** Unique, stable name (letters, digits and . _ : -); stored with every job. */
  name: string;
  /** Default queue (letters, digits and . _ -, no `:`). @defaultValue 'default' */
  queue?: string;
  /**
   * zod schema checked at dispatch and again when the job runs. The handler gets what the schema
   * makes of the stored JSON: a Date field needs `z.coerce.date()` (JSON stores it as a string),
   * and a dispatch whose stored form the schema would refuse is refused at once.
   */
  schema?: z.ZodType<P, z.ZodTypeDef, unknown>;
  /** Attempts in all, the first included: 1 to 1,000,000. @defaultValue 3 */
  tries?: number;
  /** Seconds between retries (each at most 100 years). @defaultValue [10, 30, 60] */
  backoff?: Backoff;
  /**
   * Seconds the handler may run before its AbortSignal fires; at most 2147483.647 (24.8 days,
   * the longest a timer can wait). @defaultValue 60
   */
  timeout?: number;
  /** Higher runs first within a queue, from -1048575 to 1048575. @defaultValue 0 */
  priority?: number;
  /**
   * Queue connection for this job (`database`, `redis`, `sync`), unless a dispatch names one.
   * @defaultValue QUEUE_CONNECTION
   */
  connection?: string;
  /**
   * Deduplicate: a second dispatch with the same key within `for` seconds (at most 100 years)
   * returns the first.
   */
  unique?: { key: (payload: P) => string; for: number };
  /**
   * Tags for each dispatched job, from its payload (`(p) => ['user:' + p.userId]`); merged with
   * the dispatch's `tags`, duplicates dropped. @defaultValue none
   */
  tags?: (payload: P) => string[];
  /**
   * Run around `handle`, first to last: `[a, b]` runs a, which calls b through `next()`, which
   * calls `handle`. See JobMiddleware. @defaultValue []
   */
  middleware?: JobMiddleware<P>[];
  /**
   * A circuit breaker shared by every worker on the job's storage: after `failures` failures
   * within `window` it opens, and the jobs naming it wait (no attempt spent) for `cooldown`,
   * then one probe job decides. Runs as the first middleware. See BreakerOptions and
   * docs/circuit-breakers.md. @defaultValue none
   */
  breaker?: BreakerOptions;
  /**
   * How long finished jobs are kept in job_history (`run queue:history`, `run queue:show`):
   * `{ succeeded: '1h', failed: '7d', cancelled: '7d' }`, each seconds, a duration or `false`.
   * Wins, key by key, over the queue's `retain`. See docs/lifecycle.md.
   * @defaultValue succeeded not kept, failed and cancelled 7 days
   */
  retain?: RetainOptions;
  /** Runs the job; required. */
  handle(payload: P, ctx: JobContext): Promise<unknown> | unknown;
  /** Runs once, when the job has finally failed. */
  failed?(payload: P, error: Error, ctx: JobContext): Promise<unknown> | unknown;
}

export interface JobDefinition<P = unknown> extends Required<
  Pick<JobOptions<P>, 'name' | 'queue' | 'tries' | 'backoff' | 'timeout' | 'priority'>
> {
  readonly kind: 'jobsmith.job';
  schema?: JobOptions<P>['schema'];
  unique?: JobOptions<P>['unique'];
  tags?: JobOptions<P>['tags'];
  connection?: JobOptions<P>['connection'];
  /** The job's middleware; undefined when it has none, so the worker skips the chain. */
  middleware?: readonly JobMiddleware<P>[];
  /** The `breaker` option, checked (its middleware is the first of `middleware`). */
  breaker?: BreakerSettings;
  /** The `retain` option, checked. */
  retain?: RetainOptions;
  handle: JobOptions<P>['handle'];
  failed?: JobOptions<P>['failed'];
}

/**
 * What a middleware gets as `ctx`: the handler's context plus the job's name and its payload
 * (as the schema parsed it). One per attempt, shared by every middleware of the chain.
 */
export interface MiddlewareContext<P = unknown> extends JobContext {
  /** The job's name, as given to defineJob. */
  readonly name: string;
  /** The payload as the schema parsed it (the handler gets the same value). */
  readonly payload: P;
  /**
   * The error recorded when the job was last put back or retried (a RetryAfter, a rate limit
   * with no room, a failed attempt, a lost lease), as its message; null or undefined on its
   * first run.
   */
  readonly lastError?: string | null;
  /**
   * Flow control on the worker's storage (rate limits, locks, breakers), as the built-in
   * middleware use it; undefined where no storage backs the run (a Worker made without one).
   */
  readonly flow?: FlowControl;
}

/**
 * One link of a job's middleware chain: code that runs around the handler, for concerns such
 * as timing, auth checks or skipping work that is no longer needed.
 *
 * - `next()` runs the rest of the chain, then `handle`, and resolves with the handler's result.
 *   Await it (or return it): it may be called once; a second call rejects with
 *   MiddlewareNextError.
 * - Returning without calling `next()` ends the attempt as a success; `handle` does not run.
 * - Throwing is the same as the handler throwing: a retry with the backoff, `Permanent` fails
 *   the job at once, `RetryAfter(seconds)` puts it back without spending an attempt.
 *
 * @example
 * ```ts
 * const timed: JobMiddleware = async (ctx, next) => {
 *   const start = Date.now();
 *   try {
 *     return await next();
 *   } finally {
 *     ctx.log.info('ran', { job: ctx.name, id: ctx.jobId, ms: Date.now() - start });
 *   }
 * };
 * defineJob({ name: 'report.build', middleware: [timed, skipIf((p) => p.cancelled)], handle });
 * ```
 */
export type JobMiddleware<P = unknown> = (
  ctx: MiddlewareContext<P>,
  next: () => Promise<unknown>,
) => Promise<unknown> | unknown;

/** `ctx.dispatch`: dispatches another job, on the worker's connection unless told otherwise. */
export type DispatchFn = JobContext['dispatch'];
