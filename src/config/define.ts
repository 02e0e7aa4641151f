import type { Backoff, JobDefinition } from '../jobs/types.js';
import type { ScheduleEntry } from '../schedule/types.js';

/**
 * Settings for one queue, keyed by queue name in `defineConfig({ queues })`. Each can be
 * overridden without a deploy by `QUEUE_<NAME>_CONCURRENCY|TRIES|TIMEOUT|BACKOFF` (the name
 * upper-cased, other characters as `_`); a `run queue:work` flag wins over both. They apply to
 * every job of the queue when it runs, over the job definition's own (and a dispatch's `tries`).
 */
export interface QueueSettings {
  /**
   * Worker concurrency when a `run queue:work` serves this queue alone and has no
   * --concurrency: 1 to 1000. A worker of several queues uses --concurrency (or 1).
   * @defaultValue 1
   */
  concurrency?: number;
  /** Attempts in all, the first included: 1 to 1,000,000. @defaultValue the job's tries */
  tries?: number;
  /** Seconds between retries, as defineJob takes it. @defaultValue the job's backoff */
  backoff?: Backoff;
  /**
   * Seconds (30) or a duration ('30s', '5m') a handler may run before its AbortSignal fires.
   * @defaultValue the job's timeout
   */
  timeout?: number | string;
}

/**
 * A rate limit shared by every worker on the same storage, keyed by its name in
 * `defineConfig({ rateLimits })` and taken by jobs through `rateLimited(name, keyOf?)`. Each key
 * of it (a chat id...) gets `limit` requests per `per`, plus `burst` at once (GCRA; see
 * docs/rate-limits.md). Checked when the config loads: a bad value is a ConfigError.
 *
 * @example
 * ```ts
 * rateLimits: {
 *   'telegram.global': { limit: 30, per: '1s' },
 *   'telegram.chat': { limit: 1, per: '1s' },
 *   'telegram.group': { limit: 20, per: '1m' },
 * }
 * ```
 */
export interface RateLimitSettings {
  /** Requests per `per`, for each key: a whole number from 1 to 1,000,000. */
  limit: number;
  /**
   * The window: seconds (`1`, `0.5`) or a duration (`'500ms'`, `'1s'`, `'1m'`, `'1h'`, `'1d'`),
   * at least 1 ms and at most 366 days.
   */
  per: number | string;
  /**
   * Requests a quiet key may send at once above the steady rate: a whole number from 0 to
   * 1,000,000, so at most `limit + burst` in any window of `per`.
   * @defaultValue 0
   */
  burst?: number;
}

/** What belongs in code rather than in the environment. */
export interface JobsmithConfig {
  /** Every job the app defines; a worker can only run jobs listed here. */
  jobs?: JobDefinition<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Per-queue settings. */
  queues?: Record<string, QueueSettings>;
  /**
   * Named rate limits (letters, digits and . _ -, at most 190 characters), shared by every
   * worker on the storage; jobs take them with the `rateLimited` middleware. Every name a job's
   * `rateLimited()` uses must be declared here. @defaultValue {}
   */
  rateLimits?: Record<string, RateLimitSettings>;
  /** Folder `run make:job` writes new jobs into, relative to the config file. @defaultValue 'jobs' */
  jobsDir?: string;
  /**
   * Jobs to dispatch and `run` commands to run on cron expressions; `run schedule:run` (cron,
   * every minute) or `run schedule:work` (supervisor) fires them. Checked when the config loads.
   */
  schedule?: ScheduleEntry[];
  /**
   * IANA time zone of entries that name none (`Europe/Paris`). Every host that runs the
   * scheduler reads zone-less entries in this zone, whatever its own TZ.
   * @defaultValue 'UTC'
   */
  scheduleTimezone?: string;
}

/** Identity function that gives the config file its types. */
export function defineConfig(config: JobsmithConfig): JobsmithConfig {
  return config;
}
