import { MiddlewareNextError } from '../jobs/errors.js';
import type { JobDefinition, JobMiddleware, MiddlewareContext } from '../jobs/types.js';
import type { FlowControl } from '../flow/types.js';
import type { LazyJobContext } from './job-context.js';

/**
 * Runs `chain` (the definition's middleware) around its handler: `chain[0]` first, each
 * reaching the next through `next()`, the last `next()` calling `handle`. Only jobs with
 * middleware come here, so a job without any pays nothing for it (the executor calls `handle`
 * directly).
 *
 * Resolves or rejects as the chain does: with the first middleware's result, or the error it
 * lets through. A second `next()` from the same middleware rejects with MiddlewareNextError.
 */
export function runChain(
  definition: JobDefinition,
  chain: readonly JobMiddleware[],
  payload: unknown,
  context: LazyJobContext,
  flow?: FlowControl,
  lastError: string | null = null,
): Promise<unknown> {
  const { name } = definition;
  const ctx = middlewareContext(name, payload, context, flow, lastError);
  // The furthest link started: a call to a link at or before it is a second next().
  let reached = -1;
  const step = (index: number): Promise<unknown> => {
    if (index <= reached) return Promise.reject(new MiddlewareNextError(name, index - 1));
    reached = index;
    try {
      // The handler is called on its definition, as without middleware: it may use `this`.
      const result =
        index === chain.length
          ? definition.handle(payload, context)
          : chain[index]!(ctx, () => step(index + 1));
      return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return step(0);
}

/**
 * The ctx every middleware of one attempt shares: the handler's context, read through (so its
 * lazy signal is made once, and aborts reach it), plus the name, the payload and the job's
 * last error.
 */
function middlewareContext(
  name: string,
  payload: unknown,
  context: LazyJobContext,
  flow: FlowControl | undefined,
  lastError: string | null,
): MiddlewareContext {
  return {
    name,
    payload,
    lastError,
    attempt: context.attempt,
    jobId: context.jobId,
    queue: context.queue,
    // Read through, as `signal`: the job's logger is made only for a middleware that logs.
    get log() {
      return context.log;
    },
    dispatch: context.dispatch,
    progress: (value) => context.progress(value),
    flow,
    get signal() {
      return context.signal;
    },
    // Set for a batch's job before the chain runs (src/workflows/batches/).
    get batch() {
      return context.batch;
    },
  };
}
