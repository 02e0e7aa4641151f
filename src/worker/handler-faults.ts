import { AsyncLocalStorage } from 'node:async_hooks';
import { JobsmithError } from '../errors.js';
import type { ClaimedJob } from '../queue/driver.js';
import { toError } from './executor.js';

/** What `HandlerFaults.listen` needs of a worker. */
export interface FaultTarget {
  fault(kind: 'rejection' | 'exception', error: Error, job?: ClaimedJob, tracked?: boolean): void;
}

/**
 * Errors a job's code throws or leaves outside the promise its handler returns: a rejected
 * promise nobody awaited (`unhandledRejection`), an exception thrown from a timer or an event
 * handler (`uncaughtException`). Node's default is to print a stack and exit 1, which takes every
 * other running job down with the culprit and leaves them held until their leases end.
 *
 * Instead the worker is told (Worker.fault): a rejection is reported and the worker goes on; an
 * exception fails the attempt of the job that threw it and stops the worker gracefully (exit 15),
 * as the process may be in a state nobody planned for.
 *
 * With `track`, handlers run inside `jobs` (an AsyncLocalStorage), so timers and promises they
 * start carry their job and the error is pinned on it. The price, on Node 20, is async context
 * tracking on every promise of the process: a quarter of the throughput of a worker of no-op
 * jobs with --prefetch, a few percent without. Untracked, the error names the jobs that were
 * running and no attempt is charged on a guess.
 */
export class HandlerFaults {
  readonly jobs?: AsyncLocalStorage<ClaimedJob>;

  constructor(options: { track: boolean }) {
    if (options.track) this.jobs = new AsyncLocalStorage<ClaimedJob>();
  }

  /** Sends this process's stray errors to `target` until the returned function is called. */
  listen(target: FaultTarget): () => void {
    const tracked = this.jobs !== undefined;
    const onRejection = (reason: unknown) =>
      target.fault('rejection', toError(reason), this.jobs?.getStore(), tracked);
    const onException = (error: unknown) =>
      target.fault('exception', toError(error), this.jobs?.getStore(), tracked);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    return () => {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    };
  }
}

const UNCAUGHT_HINT =
  'The worker stopped claiming and let its other jobs finish (exit 15). Catch errors inside timers and event handlers, or await the promises a handler starts.';

/**
 * Where a fault came from: tracked, the job whose handler started the code (if any) and whether
 * it still runs; untracked, the jobs that were running when it happened.
 */
export type FaultOrigin =
  { tracked: true; job?: ClaimedJob; runs: boolean } | { tracked: false; running: ClaimedJob[] };

/** Who the fault belongs to: "job #7 (mail.send)", "…, which had finished", or no job. */
function owner(origin: FaultOrigin): string {
  if (!origin.tracked) {
    if (origin.running.length === 0) return 'code outside any job';
    const jobs = origin.running.map((j) => `#${j.id} (${j.name})`).join(', ');
    return `one of the running jobs (${jobs})`;
  }
  const { job, runs } = origin;
  if (!job) return 'code outside any job';
  return `job #${job.id} (${job.name})${runs ? '' : ', which had finished'}`;
}

/** What a worker:error about a fault says it happened during. */
export function faultDuring(kind: 'rejection' | 'exception', origin: FaultOrigin): string {
  const what =
    kind === 'rejection'
      ? 'a promise rejection nobody handled'
      : 'an exception thrown outside its promise';
  return `${owner(origin)}, ${what}`;
}

/** The error a worker stops on after an uncaught exception (exit 15), with its hint. */
export function uncaughtError(error: Error, origin: FaultOrigin): JobsmithError {
  const who = owner(origin);
  return new JobsmithError(
    `${who.charAt(0).toUpperCase()}${who.slice(1)} threw an exception outside its promise: ${error.message}`,
    { hint: UNCAUGHT_HINT, cause: error },
  );
}
