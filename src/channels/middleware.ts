/*
 * withChannelSource as job middleware, for a handler: a middleware's ctx carries the flow
 * control the lease needs, a handler's does not. The middleware opens the session around the
 * handler; the handler reads it with channelSessionOf(ctx).
 */
import { Permanent } from '../jobs/errors.js';
import type { JobContext, JobMiddleware } from '../jobs/types.js';
import { withChannelSource, type ChannelSession, type ChannelSessionOptions } from './session.js';
import type { ChannelSource } from './types.js';

/** Open sessions by job id: one attempt of a job runs at a time in a process. */
const open = new Map<string, ChannelSession>();

/**
 * Middleware that runs the handler inside withChannelSource (lease, connect, session check with
 * reconnects, mapped errors, flood-wait notice, close). `sourceOf` makes the source for the job
 * (a new one each attempt: GramJS clients are not reused after destroy()).
 *
 * @example
 * ```ts
 * defineJob({
 *   name: 'pipeline.collect',
 *   middleware: [channelSession(() => gramjsSource(channelSettings(env)), { onFloodWait })],
 *   async handle(payload, ctx) {
 *     const { source } = channelSessionOf(ctx);
 *     const posts = await source.readSince(payload.channel, cursor, 100, ctx.signal);
 *   },
 * });
 * ```
 */
export function channelSession<P = unknown>(
  sourceOf: (payload: P) => ChannelSource | Promise<ChannelSource>,
  options: ChannelSessionOptions = {},
): JobMiddleware<P> {
  return async (ctx, next) => {
    const source = await sourceOf(ctx.payload);
    return withChannelSource(
      ctx,
      source,
      async (session) => {
        open.set(ctx.jobId, session);
        try {
          return await next();
        } finally {
          open.delete(ctx.jobId);
        }
      },
      options,
    );
  };
}

/**
 * The session channelSession opened for this job. Throws Permanent when the job has no
 * channelSession middleware (a retry would meet the same definition).
 */
export function channelSessionOf(ctx: Pick<JobContext, 'jobId'>): ChannelSession {
  const session = open.get(ctx.jobId);
  if (!session)
    throw new Permanent(
      `Job ${ctx.jobId} asked for its Telegram channel session, but it has none: add channelSession(...) to the job's middleware.`,
    );
  return session;
}
