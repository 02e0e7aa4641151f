import type { QueuePolicy } from '../config/queue-policies.js';
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
   * never with --once or --max-jobs. The trade-off: the jobs a crashed worker held come back
   * only when their lease ends (then to run alone, attempt not spent: isolation.ts); on a clean
   * stop they are released with the attempt given back. @defaultValue 0 (off)
   */
  prefetch?: number;
  /** Overrides every job's timeout, ms. */
  timeoutMs?: number;
  /** Overrides every job's tries. */
  tries?: number;
  /** Overrides every job's backoff. */
  backoff?: Backoff;
  /**
   * Each queue's own tries, backoff and timeout (QUEUE_<NAME>_* over the config's `queues`),
   * applied when its jobs run: over the job definition, beneath the three overrides above.
   */
  queuePolicies?: ReadonlyMap<string, QueuePolicy>;
  /** Lease length, ms; renewed every third of it while a job runs. @defaultValue 60000 */
  leaseMs: number;
  /** On shutdown, how long in-flight jobs may finish before they are aborted, ms. @defaultValue 30000 */
  graceMs: number;
  /** How long a handler may ignore its timeout's abort before the worker exits 13, ms. @defaultValue 5000 */
  stuckGraceMs: number;
  /**
   * How long the storage may keep failing with errors that waiting can fix (connection refused,
   * a restart) before the worker gives up and exits 14, ms. Errors that waiting cannot fix (a
   * read-only, corrupt or replaced SQLite file, a missing schema) stop it at once.
   * @defaultValue 60000
   */
  storageTimeoutMs?: number;
  /** Shown in logs. @defaultValue host:pid */
  name: string;
}

/** WorkerOptions.storageTimeoutMs when none is given. */
export const DEFAULT_STORAGE_TIMEOUT_MS = 60_000;

/**
 * Exit codes of `run queue:work`, documented in the README and docs/operations.md. A process
 * manager should restart the worker on each of them.
 *
 * - 0: a stop (signal, --stop-when-empty, --once, --max-jobs, --max-time, `run queue:restart`).
 * - 1: a failure before the worker started (configuration, an unreachable storage at start).
 * - 2: a usage error (a bad flag or argument).
 * - 12: the process's memory passed --memory; its jobs finished first.
 * - 13: a job ignored its timeout's abort past the stuck grace; the job runs again one lease
 *   later, its attempt spent (or fails as a timeout on its last try).
 * - 14: the storage failed: an error waiting cannot fix (read-only, corrupt, deleted or replaced
 *   SQLite file, a missing schema, a job outcome the storage refused), or errors that waiting
 *   could fix for longer than --storage-timeout, or a job's outcome that could not be written
 *   within its lease. Running jobs finished (or were released) first where the storage allowed.
 * - 15: a job's code threw outside its promise (an uncaught exception, e.g. from a timer); the
 *   worker stopped claiming, let its other jobs finish within --grace, and exited.
 */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  MEMORY: 12,
  STUCK: 13,
  STORAGE: 14,
  UNCAUGHT: 15,
} as const;
