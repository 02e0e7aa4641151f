import type { JobDefinition } from '../jobs/types.js';
import type { ScheduleEntry } from '../schedule/types.js';

/** Settings for one queue, keyed by queue name in `defineConfig({ queues })`. */
export interface QueueSettings {
  /** Default worker concurrency for this queue: 1 to 1000. @defaultValue 1 */
  concurrency?: number;
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
