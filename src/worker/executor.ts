import type { AsyncLocalStorage } from 'node:async_hooks';
import type { ClaimedJob, FailReason } from '../queue/driver.js';
import { timerDelay } from '../util/timers.js';
import { backoffDelayMs } from '../jobs/backoff.js';
import {
  isPermanent,
  JobTimeoutError,
  PoisonJobError,
  pushBackOf,
  retryAfterMs,
  skipOf,
} from '../jobs/errors.js';
import { describeSchemaError } from '../jobs/prepare.js';
import type { JobCancelledError } from '../cancel/errors.js';
import type { FlowControl } from '../flow/types.js';
import { pushBackLimit } from '../flow/rate-limits/push-back.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { QueuePolicy } from '../config/queue-policies.js';
import { timerPerDeadline, type Deadline, type Schedule } from './deadlines.js';
import { LazyJobContext } from './job-context.js';
import type { ProgressWriter } from './progress.js';
import type { WorkflowServices } from './deps.js';
import { runChain } from './middleware.js';
import type { Backoff, DispatchFn, JobContext, JobDefinition, JobLogger } from '../jobs/types.js';

/** What the worker should do with a job once its handler is done (or abandoned). */
export type Decision =
  | { action: 'complete' }
  /** A middleware (skipIf) dropped the job: deleted like a completed one, reported skipped. */
  | { action: 'skip'; reason?: string }
  | { action: 'retry'; delayMs: number; error: Error; refund: boolean }
  | { action: 'fail'; reason: FailReason; error: Error }
  /** Shutdown past its grace: put the job back now, its attempt counted. */
  | { action: 'abandon'; error: Error }
  /** The handler ignored its timeout's abort: leave the job to its lease and exit. */
  /**
   * The handler ignored its timeout's abort: it goes on running, the worker stops (exit 13).
   * `final`: its tries are spent.
   */
  | { action: 'stuck'; error: Error; final: boolean }
  /**
   * Cancelled while it ran (`run queue:cancel`): deleted like a completed job, reported
   * cancelled, never failed or retried. `stuck`: its handler ignored the abort past its timeout
   * and grace, and still runs (the worker stops, as for 'stuck').
   */
  | { action: 'cancel'; error: JobCancelledError; stuck: boolean };

export interface ExecuteOptions {
  registry: JobRegistry;
  /** Aborts every running handler at once (shutdown past --grace), where the caller has one. */
  shutdown?: AbortSignal;
  /** Worker-wide overrides from the command line. */
  timeoutMs?: number;
  tries?: number;
  backoff?: Backoff;
  /** Each queue's own policy (environment, then config), beneath the command line's. */
  queuePolicies?: ReadonlyMap<string, QueuePolicy>;
  /** How long a handler may ignore its timeout's abort before the worker gives up on it. */
  stuckGraceMs: number;
  /** Arms each job's timeout. @defaultValue a setTimeout per job */
  schedule?: Schedule;
  log: JobLogger;
  dispatch: DispatchFn;
  /** Flow control on the storage (rate limits, locks, breakers), for middleware. */
  flow?: FlowControl;
  /** Runs each handler in this storage's context, holding its job (see handler-faults.ts). */
  jobContext?: AsyncLocalStorage<ClaimedJob>;
  /** Writes `ctx.progress` values (fenced by the claim's token); none: kept in memory only. */
  progress?: ProgressWriter;
  /** Calls each handler (WorkerDeps.aroundHandler); none: handlers are called directly. */
  aroundHandler?: AroundHandler;
  /** For jobs that carry a workflow header (WorkerDeps.workflow); none: they run as plain jobs. */
  workflow?: WorkflowServices;
}

/**
 * Wraps the call of each job's handler (with its middleware), so that an integration can run it
 * in a context of its own without the core knowing of it (tracing: inside the span of the job's
 * run, so that spans the handler starts, and jobs it dispatches, are its children). It must call
 * `run` once, at once, and return what `run` returns.
 */
export type AroundHandler = (job: ClaimedJob, run: () => unknown) => unknown;

/**
 * Lets the worker abandon one running handler (its lease was lost, or shutdown passed its
 * grace) without an AbortSignal and a listener per job: `execute` sets `interrupt` while the
 * handler runs, and `fault`, which ends the attempt as if the handler had thrown `error` (an
 * exception its code threw outside its promise).
 */
export interface Interruptible {
  interrupt?: () => void;
  fault?: (error: Error) => void;
  /**
   * Cancels the job (a cancel request, src/cancel/cancel-watch.ts): its signal aborts with
   * `error`, and however its handler then ends, the job ends cancelled.
   */
  cancel?: (error: JobCancelledError) => void;
}

export interface Execution {
  decision: Decision;
  definition?: JobDefinition;
  /** The payload as the schema parsed it, for the failed() callback. */
  payload?: unknown;
  context?: JobContext;
  /** What the handler (or its middleware chain) resolved with, for job_history; when it completed. */
  result?: unknown;
}

class ShutdownAbort extends Error {
  constructor() {
    super('Worker shut down before the job finished');
    this.name = 'ShutdownAbort';
  }
}

/** Runs one claimed job's handler and decides what happens next. Never throws. */
export async function execute(
  job: ClaimedJob,
  options: ExecuteOptions,
  handle?: Interruptible,
): Promise<Execution> {
  const definition = options.registry.get(job.name);
  if (!definition) {
    const setup = options.registry.setupOf(job.name);
    if (setup !== undefined)
      return poison(
        `${job.name} is a built-in job this worker is not set up for: ${setup}, restart the worker, then retry the job with run queue:retry.`,
      );
    const known = options.registry.names();
    return poison(
      `Unknown job name "${job.name}": no job with that name is registered (known: ${known.join(', ') || 'none'}). Add it to the config's jobs list, then retry it with run queue:retry.`,
    );
  }
  const policy = options.queuePolicies?.get(job.queue);
  const maxTries = triesOf(job, options, policy);
  let raw: unknown;
  try {
    raw = JSON.parse(job.payload);
  } catch (error) {
    return {
      definition,
      ...poison(
        `Unreadable payload for ${job.name}: not valid JSON (${(error as Error).message}).`,
      ),
    };
  }
  let payload = raw;
  if (definition.schema) {
    const parsed = definition.schema.safeParse(raw);
    if (!parsed.success) {
      return {
        definition,
        ...poison(`Invalid payload for ${job.name}: ${describeSchemaError(parsed.error)}`),
      };
    }
    payload = parsed.data;
  }

  const context = new LazyJobContext(
    job.attempts,
    job.id,
    job.queue,
    options.log,
    options.dispatch,
    job,
    options.progress,
  );
  // A batch's job or callback (src/workflows/batches/): loaded only for one. It sets ctx.batch,
  // and ends unrun a job of a cancelled batch, or a callback another copy of already ran.
  if (options.workflow && job.headers && isBatchJob(job.headers)) {
    const { beforeBatchJob } = await import('../workflows/batches/worker-hooks.js');
    const decision = await beforeBatchJob(job, context, options.workflow);
    if (decision) return { definition, payload, context, decision };
  }
  // Checked after the payload is parsed so that failed() gets it: a job that keeps killing
  // its worker is "finally failed" like any other, and its failed() hook runs once.
  if (job.attempts > maxTries) {
    // The cause of the last attempt (a lost lease, a timeout) is kept: without it the failure
    // would say only that the tries ran out.
    const last = job.lastError ? ` The last attempt: ${job.lastError}` : '';
    const error = new Error(
      `${job.name} has been attempted too many times: max attempts exceeded (${maxTries}).${last}`,
    );
    // The worker's own verdict: a stack of jobsmith's frames would only be noise in failed jobs.
    error.stack = `${error.name}: ${error.message}`;
    return {
      definition,
      payload,
      context,
      decision: { action: 'fail', reason: 'max_attempts', error },
    };
  }
  const timeoutMs = options.timeoutMs ?? policy?.timeoutMs ?? definition.timeout * 1000;
  const { jobContext, aroundHandler } = options;
  const { middleware } = definition;
  // One closure either way: a job without middleware calls its handler directly.
  const run = middleware
    ? () => runChain(definition, middleware, payload, context, options.flow, job.lastError)
    : () => definition.handle(payload, context);
  const held = jobContext ? () => jobContext.run(job, run) : run;
  const outcome = await race(
    aroundHandler ? () => aroundHandler(job, held) : held,
    context,
    timeoutMs,
    options,
    handle,
  );
  // The last progress reported is stored before the job settles (progress.ts).
  const flushing = context.flushProgress();
  if (flushing) await flushing;
  if (outcome.kind === 'done') {
    const { result } = outcome;
    return result === undefined
      ? { definition, payload, context, decision: COMPLETE }
      : { definition, payload, context, decision: COMPLETE, result };
  }
  const base = { definition, payload, context };
  if (outcome.kind === 'cancelled') {
    const { error, stuck } = outcome;
    return { ...base, decision: { action: 'cancel', error, stuck } };
  }

  if (outcome.kind === 'shutdown')
    return { ...base, decision: { action: 'abandon', error: outcome.error } };
  if (outcome.kind === 'stuck')
    return {
      ...base,
      decision: { action: 'stuck', error: outcome.error, final: job.attempts >= maxTries },
    };

  const error = outcome.error;
  const skip = skipOf(error);
  if (skip) return { ...base, decision: { action: 'skip', ...skip } };
  const retryAfter = retryAfterMs(error);
  if (retryAfter !== undefined) {
    // An upstream's 429 (RetryAfter with { limit, key }): every job on that key waits too.
    const pushBack = pushBackOf(error);
    if (pushBack) await pushBackLimit(pushBack, retryAfter, options.flow, options.log, job.name);
    return { ...base, decision: { action: 'retry', delayMs: retryAfter, error, refund: true } };
  }
  if (isPermanent(error)) return { ...base, decision: { action: 'fail', reason: 'error', error } };
  const timedOut = error instanceof JobTimeoutError;
  if (job.attempts >= maxTries) {
    return { ...base, decision: { action: 'fail', reason: timedOut ? 'timeout' : 'error', error } };
  }
  const backoff = options.backoff ?? policy?.backoff ?? definition.backoff;
  const delayMs = backoffDelayMs(backoff, job.attempts);
  return { ...base, decision: { action: 'retry', delayMs, error, refund: false } };
}

/**
 * The tries that apply to a job: --tries, else its queue's policy, else those stored with it at
 * dispatch (the dispatch's own, else the definition's). Read when it runs, so a queue's tries
 * changed in the environment reach jobs already waiting.
 */
export function triesOf(
  job: ClaimedJob,
  options: Pick<ExecuteOptions, 'tries' | 'queuePolicies'>,
  policy = options.queuePolicies?.get(job.queue),
): number {
  return options.tries ?? policy?.tries ?? job.maxTries;
}

const COMPLETE: Decision = Object.freeze({ action: 'complete' });

/** A job of a batch or a batch callback: it carries one of their headers (src/workflows/batches/). */
export function isBatchJob(headers: Readonly<Record<string, string>>): boolean {
  return 'jobsmith-batch' in headers || 'jobsmith-batch-callback' in headers;
}

function poison(message: string): Execution {
  return { decision: { action: 'fail', reason: 'poison', error: new PoisonJobError(message) } };
}

type RaceOutcome =
  | { kind: 'done'; result?: unknown }
  | { kind: 'error'; error: Error }
  | { kind: 'shutdown'; error: Error }
  | { kind: 'stuck'; error: Error }
  | { kind: 'cancelled'; error: JobCancelledError; stuck: boolean };

/** The outcome of nearly every job (one that returns nothing), shared rather than made per job. */
const DONE: RaceOutcome = Object.freeze({ kind: 'done' });

/**
 * Runs the handler against its timeout and the worker's shutdown. At the timeout the handler's
 * signal aborts and it gets `stuckGraceMs` to give up; one that ignores the signal is reported
 * as stuck. At shutdown (the `shutdown` signal, or the worker calling `handle.interrupt`) the
 * job is abandoned at once, whatever the handler does.
 */
function race(
  run: () => unknown,
  context: LazyJobContext,
  timeoutMs: number,
  options: ExecuteOptions,
  handle: Interruptible | undefined,
): Promise<RaceOutcome> {
  const { shutdown, stuckGraceMs, schedule = timerPerDeadline } = options;
  return new Promise<RaceOutcome>((resolve) => {
    let settled = false;
    let timedOut: JobTimeoutError | undefined;
    let cancelled: JobCancelledError | undefined;
    let stuckTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: RaceOutcome) => {
      if (settled) return;
      settled = true;
      deadline.cancel();
      clearTimeout(stuckTimer);
      shutdown?.removeEventListener('abort', onShutdown);
      if (handle) handle.interrupt = handle.fault = handle.cancel = undefined;
      // A cancelled job ends cancelled however it ends: returned, thrown, timed out, shut down.
      resolve(
        cancelled
          ? { kind: 'cancelled', error: cancelled, stuck: outcome.kind === 'stuck' }
          : outcome,
      );
    };
    const deadline: Deadline = schedule(timeoutMs, () => {
      timedOut = new JobTimeoutError(timeoutMs / 1000);
      context.abort(timedOut);
      stuckTimer = setTimeout(
        () =>
          finish({
            kind: 'stuck',
            error: new Error(
              `${timedOut!.message}, and its handler ignored the abort signal for ${stuckGraceMs}ms`,
            ),
          }),
        timerDelay(stuckGraceMs),
      );
    });
    const onShutdown = () => {
      const error = new ShutdownAbort();
      context.abort(error);
      finish({ kind: 'shutdown', error });
    };
    if (shutdown?.aborted) return onShutdown();
    shutdown?.addEventListener('abort', onShutdown);
    // A returned value is kept for history (job_history): an object only when there is one.
    const done = (result?: unknown) =>
      finish(
        timedOut
          ? { kind: 'error', error: timedOut }
          : result === undefined
            ? DONE
            : { kind: 'done', result },
      );
    const failed = (error: unknown) => finish({ kind: 'error', error: timedOut ?? toError(error) });
    if (handle) {
      handle.cancel = (error) => {
        cancelled ??= error;
        context.abort(error);
      };
      handle.interrupt = onShutdown;
      handle.fault = (error) => {
        context.abort(error);
        failed(error);
      };
    }
    // Called directly, not through Promise.resolve().then(run): two promises and a microtask
    // fewer per job (15% of a prefetching worker's rate at concurrency 10). The worker marks
    // every job of a claim running before it calls the first handler (JobRuns.start).
    try {
      const result = run();
      if (!isThenable(result)) return done(result);
      result.then(done, failed);
    } catch (error) {
      failed(error);
    }
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

export function toError(error: unknown): Error {
  return error instanceof Error
    ? error
    : new Error(typeof error === 'string' ? error : JSON.stringify(error));
}
