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
 *
 * `capped`: the queues with a globalConcurrency. A claim that found nothing there may only mean
 * that other workers hold every place of the cap (or a completion of ours is not visible yet):
 * `capped` counts the jobs ready on them, and while there are any the worker is not empty.
 */
export async function idleWaiting(
  driver: QueueDriver,
  queues: string[],
  paused: Set<string>,
  capped: ReadonlySet<string>,
  onError: (error: unknown) => void,
): Promise<{ paused: { queues: string[]; waiting: number }; waiting: number; capped: number }> {
  const held = queues.filter((q) => paused.has(q));
  const blocked = queues.filter((q) => capped.has(q) && !paused.has(q));
  let waiting = 0;
  let ready = 0;
  if (held.length + blocked.length > 0) {
    try {
      for (const s of await driver.sizes([...held, ...blocked])) {
        if (paused.has(s.queue)) waiting += s.pending + s.delayed;
        else ready += s.pending;
      }
    } catch (error) {
      onError(error);
    }
  }
  return { paused: { queues: held, waiting }, waiting, capped: ready };
}

/** How many jobs the worker may claim now: its free slots, within --once and --max-jobs. */
export function freeSlots(
  o: Pick<WorkerOptions, 'concurrency' | 'once' | 'maxJobs'>,
  running: number,
  claimed: number,
): number {
  let free = o.concurrency - running;
  if (o.once) free = Math.min(free, 1 - claimed);
  if (o.maxJobs !== undefined) free = Math.min(free, o.maxJobs - claimed);
  return free;
}
