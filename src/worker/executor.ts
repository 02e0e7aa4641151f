import type { ClaimedJob, FailReason } from '../queue/driver.js';
import { backoffDelayMs } from '../jobs/backoff.js';
import { isPermanent, JobTimeoutError, PoisonJobError, retryAfterSeconds } from '../jobs/errors.js';
import { describeSchemaError } from '../jobs/prepare.js';
import type { JobRegistry } from '../jobs/registry.js';
import type {
  Backoff,
  DispatchOptions,
  DispatchResult,
  JobContext,
  JobDefinition,
  JobLogger,
} from '../jobs/types.js';

/** What the worker should do with a job once its handler is done (or abandoned). */
export type Decision =
  | { action: 'complete' }
  | { action: 'retry'; delayMs: number; error: Error; refund: boolean }
  | { action: 'fail'; reason: FailReason; error: Error }
  /** Shutdown past its grace: put the job back now, its attempt counted. */
  | { action: 'abandon'; error: Error }
  /** The handler ignored its timeout's abort: leave the job to its lease and exit. */
  | { action: 'stuck'; error: Error };

export interface ExecuteOptions {
  registry: JobRegistry;
  /** Aborts every running handler at once (shutdown past --grace). */
  shutdown: AbortSignal;
  /** Worker-wide overrides from the command line. */
  timeoutMs?: number;
  tries?: number;
  backoff?: Backoff;
  /** How long a handler may ignore its timeout's abort before the worker gives up on it. */
  stuckGraceMs: number;
  log: JobLogger;
  dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult>;
}

export interface Execution {
  decision: Decision;
  definition?: JobDefinition;
  /** The payload as the schema parsed it, for the failed() callback. */
  payload?: unknown;
  context?: JobContext;
}

class ShutdownAbort extends Error {
  constructor() {
    super('Worker shut down before the job finished');
    this.name = 'ShutdownAbort';
  }
}

/** Runs one claimed job's handler and decides what happens next. Never throws. */
export async function execute(job: ClaimedJob, options: ExecuteOptions): Promise<Execution> {
  const definition = options.registry.get(job.name);
  if (!definition) {
    const known = options.registry.names();
    return poison(
      `Unknown job name "${job.name}": no job with that name is registered (known: ${known.join(', ') || 'none'}). Add it to the config's jobs list, then retry it with run queue:retry.`,
    );
  }
  const maxTries = options.tries ?? job.maxTries;
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

  const controller = new AbortController();
  const context: JobContext = {
    signal: controller.signal,
    attempt: job.attempts,
    jobId: job.id,
    queue: job.queue,
    log: options.log,
    dispatch: options.dispatch,
  };
  // Checked after the payload is parsed so that failed() gets it: a job that keeps killing
  // its worker is "finally failed" like any other, and its failed() hook runs once.
  if (job.attempts > maxTries) {
    const error = new Error(
      `${job.name} has been attempted too many times: max attempts exceeded (${maxTries}).`,
    );
    return {
      definition,
      payload,
      context,
      decision: { action: 'fail', reason: 'max_attempts', error },
    };
  }
  const timeoutSeconds =
    options.timeoutMs !== undefined ? options.timeoutMs / 1000 : definition.timeout;
  const outcome = await race(
    () => definition.handle(payload, context),
    controller,
    timeoutSeconds * 1000,
    options.shutdown,
    options.stuckGraceMs,
  );
  const base = { definition, payload, context };

  if (outcome.kind === 'done') return { ...base, decision: { action: 'complete' } };
  if (outcome.kind === 'shutdown')
    return { ...base, decision: { action: 'abandon', error: outcome.error } };
  if (outcome.kind === 'stuck')
    return { ...base, decision: { action: 'stuck', error: outcome.error } };

  const error = outcome.error;
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) {
    return {
      ...base,
      decision: { action: 'retry', delayMs: retryAfter * 1000, error, refund: true },
    };
  }
  if (isPermanent(error)) return { ...base, decision: { action: 'fail', reason: 'error', error } };
  const timedOut = error instanceof JobTimeoutError;
  if (job.attempts >= maxTries) {
    return { ...base, decision: { action: 'fail', reason: timedOut ? 'timeout' : 'error', error } };
  }
  const delayMs = backoffDelayMs(options.backoff ?? definition.backoff, job.attempts);
  return { ...base, decision: { action: 'retry', delayMs, error, refund: false } };
}

function poison(message: string): Execution {
  return { decision: { action: 'fail', reason: 'poison', error: new PoisonJobError(message) } };
}

type RaceOutcome =
  | { kind: 'done' }
  | { kind: 'error'; error: Error }
  | { kind: 'shutdown'; error: Error }
  | { kind: 'stuck'; error: Error };

/**
 * Runs the handler against its timeout and the worker's shutdown. At the timeout the handler's
 * signal aborts and it gets `stuckGraceMs` to give up; one that ignores the signal is reported
 * as stuck. At shutdown the job is abandoned at once, whatever the handler does.
 */
function race(
  run: () => unknown,
  controller: AbortController,
  timeoutMs: number,
  shutdown: AbortSignal,
  stuckGraceMs: number,
): Promise<RaceOutcome> {
  return new Promise<RaceOutcome>((resolve) => {
    let settled = false;
    let timedOut: JobTimeoutError | undefined;
    let stuckTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: RaceOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(stuckTimer);
      shutdown.removeEventListener('abort', onShutdown);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      timedOut = new JobTimeoutError(timeoutMs / 1000);
      controller.abort(timedOut);
      stuckTimer = setTimeout(
        () =>
          finish({
            kind: 'stuck',
            error: new Error(
              `Handler ignored its abort signal for ${stuckGraceMs}ms after timing out`,
            ),
          }),
        stuckGraceMs,
      );
    }, timeoutMs);
    const onShutdown = () => {
      const error = new ShutdownAbort();
      controller.abort(error);
      finish({ kind: 'shutdown', error });
    };
    if (shutdown.aborted) return onShutdown();
    shutdown.addEventListener('abort', onShutdown);
    Promise.resolve()
      .then(run)
      .then(
        () => finish(timedOut ? { kind: 'error', error: timedOut } : { kind: 'done' }),
        (error: unknown) => finish({ kind: 'error', error: timedOut ?? toError(error) }),
      );
  });
}

export function toError(error: unknown): Error {
  return error instanceof Error
    ? error
    : new Error(typeof error === 'string' ? error : JSON.stringify(error));
}
