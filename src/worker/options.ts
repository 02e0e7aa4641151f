import type { Backoff } from '../jobs/types.js';

/** How a worker runs; `run queue:work` builds this from its flags. */
export interface WorkerOptions {
  /** Queues in strict priority order. @defaultValue ['default'] */
  queues: string[];
  /** Jobs run at the same time. @defaultValue 1 */
  concurrency: number;
  /** Run one job, then exit. */
  once: boolean;
  /** Exit when the queues are empty and nothing runs. */
  stopWhenEmpty: boolean;
  /** Exit after this many jobs. */
  maxJobs?: number;
  /** Exit after this many milliseconds. */
  maxTimeMs?: number;
  /** Exit (code 12) when the process's RSS passes this many megabytes. */
  memoryMb?: number;
  /** Longest idle wait between looks at the queues, ms; notifications wake sooner. @defaultValue 1000 */
  sleepMs: number;
  /** Pause after each claim, ms. @defaultValue 0 */
  restMs: number;
  /**
   * Jobs claimed ahead of free slots and held in memory, so most jobs start without a round
   * trip to the storage. Only on a worker of a single queue (strict queue order stays exact),
   * never with --once or --max-jobs. The trade-off: a worker that crashes spends an attempt of
   * every job it held, and they come back only when their lease ends; on a clean stop they are
   * released with the attempt given back. @defaultValue 0 (off)
   */
  prefetch?: number;
  /** Overrides every job's timeout, ms. */
  timeoutMs?: number;
  /** Overrides every job's tries. */
  tries?: number;
  /** Overrides every job's backoff. */
  backoff?: Backoff;
  /** Lease length, ms; renewed every third of it while a job runs. @defaultValue 60000 */
  leaseMs: number;
  /** On shutdown, how long in-flight jobs may finish before they are aborted, ms. @defaultValue 30000 */
  graceMs: number;
  /** How long a handler may ignore its timeout's abort before the worker exits 13, ms. @defaultValue 5000 */
  stuckGraceMs: number;
  /** Shown in logs. @defaultValue host:pid */
  name: string;
}

/** Exit codes of `run queue:work`, documented in the README. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  MEMORY: 12,
  STUCK: 13,
} as const;
