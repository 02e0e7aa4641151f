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

/** What belongs in code rather than in the environment. */
export interface JobsmithConfig {
  /** Every job the app defines; a worker can only run jobs listed here. */
  jobs?: JobDefinition<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Per-queue settings. */
  queues?: Record<string, QueueSettings>;
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
