import type { QueueDriver } from '../queue/driver.js';
import type { StopReason } from './events.js';
import type { WorkerOptions } from './options.js';

/** What the worker has done so far, for its limits. */
export interface WorkerTally {
  /** Jobs claimed (started, or held to run alone). */
  claimed: number;
  /** Jobs whose outcome is settled. */
  processed: number;
  /** Jobs running, or waiting to run alone. */
  busy: boolean;
  /** Epoch ms the worker started. */
  startedAt: number;
  /** `run queue:restart` was asked after the worker started. */
  restartRequested: boolean;
}

/** The limit that stops the worker now, if one does (--once, --max-jobs, --max-time, --memory, restart). */
export function limitReached(o: WorkerOptions, t: WorkerTally): StopReason | undefined {
  if (t.restartRequested) return 'restart';
  if (o.once && t.claimed >= 1 && !t.busy) return 'once';
  if (o.maxJobs !== undefined && t.processed >= o.maxJobs) return 'max-jobs';
  if (o.maxTimeMs !== undefined && Date.now() - t.startedAt >= o.maxTimeMs) return 'max-time';
  if (o.memoryMb !== undefined && process.memoryUsage.rss() / 1_048_576 > o.memoryMb)
    return 'memory';
  return undefined;
}

/**
 * Of the worker's queues, the paused ones and how many jobs wait on them: --stop-when-empty
 * then says "paused", not "empty". A count that fails is reported and counts as none.
 */
export async function pausedWaiting(
  driver: QueueDriver,
  queues: string[],
  paused: Set<string>,
  onError: (error: unknown) => void,
): Promise<{ queues: string[]; waiting: number }> {
  const held = queues.filter((q) => paused.has(q));
  let waiting = 0;
  if (held.length > 0) {
    try {
      for (const s of await driver.sizes(held)) waiting += s.pending + s.delayed;
    } catch (error) {
      onError(error);
    }
  }
  return { queues: held, waiting };
}
