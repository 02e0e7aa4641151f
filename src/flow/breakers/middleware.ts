/*
 * The circuit-breaker middleware. Loaded by the public entry point, so it must stay light: it
 * reaches the breaker's storage through `ctx.flow`, never by importing a store.
 */
import { RetryAfter, retryAfterMs, skipOf } from '../../jobs/errors.js';
import type { JobMiddleware, MiddlewareContext } from '../../jobs/types.js';
import type { FlowControl } from '../types.js';
import { resolveBreaker, type BreakerOptions, type BreakerSettings } from './settings.js';
import type { BreakerOutcome } from './store.js';

/** Marks a breaker middleware with its settings, for the config's checks and `breaker:list`. */
const BREAKER = Symbol.for('jobsmith.breaker');

/**
 * Thrown by the breaker middleware while its breaker is open (or another job probes it): the
 * job is put back to run after `seconds`, without spending an attempt.
 */
export class BreakerOpen extends RetryAfter {
  constructor(
    readonly breaker: string,
    waitMs: number,
    state: 'open' | 'half-open',
  ) {
    super(
      waitMs / 1000,
      state === 'open'
        ? `Circuit breaker ${breaker} is open`
        : `Circuit breaker ${breaker} is half-open and another job probes it`,
    );
    this.name = 'BreakerOpen';
  }
}

/**
 * A circuit breaker shared by every worker on the same storage (the job's connection):
 * after `failures` failures within `window`, the breaker opens and its jobs are put back,
 * without spending an attempt, until `cooldown` has passed; then one job runs as a probe
 * (the others keep waiting) and its outcome closes the breaker or opens it again.
 *
 * Same as `defineJob({ breaker: {...} })`, which puts it first in the chain; use the middleware
 * form to place it elsewhere. Transitions are reported as worker events (`breaker:opened`,
 * `breaker:half-open`, `breaker:closed`) that `run queue:work` logs. Where no storage backs the
 * run (a Worker made without flow control) the job runs unguarded.
 *
 * Defaults: failures 5, window 1m, cooldown 30s, probeLease 65s; every error counts except
 * RetryAfter (see BreakerOptions).
 *
 * @throws ConfigError when an option is out of range, naming it, the value and what is allowed.
 * @example
 * ```ts
 * middleware: [breaker({ name: 'openai', failures: 5, window: '1m', cooldown: '30s' })]
 * ```
 */
export function breaker<P = unknown>(options: BreakerOptions): JobMiddleware<P> {
  const name = (options as { name?: unknown } | null)?.name;
  const where = `breaker(${typeof name === 'string' ? JSON.stringify(name) : '...'})`;
  return breakerMiddleware(resolveBreaker(options, where));
}

/** The middleware of checked settings (defineJob's `breaker` option comes here). */
export function breakerMiddleware<P = unknown>(settings: BreakerSettings): JobMiddleware<P> {
  const middleware: JobMiddleware<P> = async function breakerMiddleware(ctx, next) {
    const flow = ctx.flow;
    if (!flow) return next();
    const store = flow.store.breakers;
    const admission = await store.admit(settings);
    if (!admission.run)
      throw new BreakerOpen(settings.name, admission.retryAfterMs, admission.state);
    const { probe } = admission;
    if (probe) flow.emit({ type: 'breaker:half-open', name: settings.name, jobId: ctx.jobId });
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      await settle(ctx, flow, settings, verdict(error, ctx, settings), probe, error);
      throw error;
    }
    // A handler that returned after its timeout fired has failed, whatever it returned.
    const timeout = timeoutOf(ctx);
    const outcome = timeout ? verdict(timeout, ctx, settings) : 'success';
    await settle(ctx, flow, settings, outcome, probe, timeout);
    return result;
  };
  Object.defineProperty(middleware, BREAKER, { value: settings });
  return middleware;
}

/** The settings of a breaker middleware, or undefined for any other function. */
export function breakerOf(middleware: unknown): BreakerSettings | undefined {
  if (typeof middleware !== 'function') return undefined;
  return (middleware as unknown as Record<symbol, BreakerSettings | undefined>)[BREAKER];
}

/** Whether an error counts against the breaker. */
function verdict(error: unknown, ctx: MiddlewareContext, s: BreakerSettings): BreakerOutcome {
  // Neither the job's nor the upstream's doing: the worker stopped, or skipIf dropped the job.
  if (skipOf(error) || isShutdown(error) || isShutdown(abortReason(ctx))) return 'neutral';
  const err = error instanceof Error ? error : new Error(String(error));
  const timeout = timeoutOf(ctx);
  if (!s.when) return retryAfterMs(error) === undefined ? 'failure' : 'neutral';
  try {
    return s.when(timeout ?? err) ? 'failure' : 'neutral';
  } catch (whenError) {
    ctx.log.warn(`breaker ${s.name}: its when() threw; the error counts as a failure`, {
      error: (whenError as Error)?.message,
    });
    return 'failure';
  }
}

/** Records the outcome and reports a transition; a storage error is logged, not thrown. */
async function settle(
  ctx: MiddlewareContext,
  flow: FlowControl,
  s: BreakerSettings,
  outcome: BreakerOutcome,
  probe: string | undefined,
  error: unknown,
): Promise<void> {
  // A closed breaker only counts failures: a success costs no round trip.
  if (probe === undefined && outcome !== 'failure') return;
  try {
    const transition = await flow.store.breakers.record(s, outcome, probe);
    if (transition?.to === 'closed') {
      flow.emit({ type: 'breaker:closed', name: s.name, jobId: ctx.jobId });
    } else if (transition?.to === 'open') {
      const message = error instanceof Error ? error.message : undefined;
      flow.emit({
        type: 'breaker:opened',
        name: s.name,
        failures: transition.failures,
        until: transition.until,
        cooldownMs: s.cooldownMs,
        reopened: transition.reopened,
        jobId: ctx.jobId,
        ...(message === undefined ? {} : { error: message }),
      });
    }
  } catch (storageError) {
    // The job's own outcome stands; a probe's lease runs out and the next job probes.
    ctx.log.warn(`breaker ${s.name}: could not record the job's outcome`, {
      error: (storageError as Error)?.message,
    });
  }
}

/** The abort reason, if the job's signal fired. Reading `signal` makes it: read it late. */
function abortReason(ctx: MiddlewareContext): unknown {
  return ctx.signal.aborted ? ctx.signal.reason : undefined;
}

/** The JobTimeoutError the worker aborted the job with, if it timed out. */
function timeoutOf(ctx: MiddlewareContext): Error | undefined {
  const reason = abortReason(ctx);
  // By name: a config loaded through jiti may hold its own copy of the errors module.
  return reason instanceof Error && reason.name === 'JobTimeoutError' ? reason : undefined;
}

function isShutdown(error: unknown): boolean {
  return error instanceof Error && error.name === 'ShutdownAbort';
}
