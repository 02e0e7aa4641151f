/*
 * The built-in job middleware. Loaded by the public entry point, so it must stay light: no
 * storage, no worker code.
 */
import { ConfigError } from '../errors.js';
import { JobSkipped } from './errors.js';
import type { JobMiddleware, MiddlewareContext } from './types.js';

/**
 * A middleware that drops a job which no longer needs to run. `fn(payload, ctx)` (sync or
 * async) decides: `true`, or a string saying why, skips the job; `false` runs the rest of the
 * chain. A skipped job is deleted like a completed one and reported as skipped (the
 * `job:skipped` worker event, a SKIPPED line in `run queue:work`): it never runs its handler
 * and never reaches failed jobs. An error `fn` throws is the job's error, as in a handler.
 *
 * Put it first, or after middleware that lets errors through: it signals the skip by
 * throwing, so a middleware that catches and swallows errors around it would swallow the skip.
 *
 * @example
 * ```ts
 * middleware: [skipIf(async (p) => (await isUnsubscribed(p.userId)) && 'unsubscribed')]
 * ```
 */
export function skipIf<P = unknown>(
  fn: (payload: P, ctx: MiddlewareContext<P>) => boolean | string | Promise<boolean | string>,
): JobMiddleware<P> {
  if (typeof fn !== 'function') {
    throw new ConfigError(
      'skipIf takes a function: skipIf((payload, ctx) => true to skip, or a string saying why).',
    );
  }
  return async function skipIfMiddleware(ctx, next) {
    const verdict = await fn(ctx.payload, ctx);
    if (!verdict) return next();
    throw new JobSkipped(typeof verdict === 'string' ? verdict : undefined);
  };
}
