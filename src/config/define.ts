import type { JobDefinition } from '../jobs/types.js';

/** Settings for one queue, keyed by queue name in `defineConfig({ queues })`. */
export interface QueueSettings {
  /** Default worker concurrency for this queue. @defaultValue 1 */
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
}

/** Identity function that gives the config file its types. */
export function defineConfig(config: JobsmithConfig): JobsmithConfig {
  return config;
}
