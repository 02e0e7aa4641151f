/*
 * A post's jobs cancelled while they run (`run queue:cancel ID`, the dashboard's Cancel): the
 * job ends `cancelled` in jobsmith, and without this its post stayed `in_progress` for good,
 * which `run pipeline:republish` then refused as still running.
 */
import type { JobMiddleware, MiddlewareContext } from 'jobsmith';
import { pipelineStore } from '../store.js';

/** What a post's cancel does beyond marking it: the publisher deletes what it sent. */
export type OnCancel = (
  ctx: MiddlewareContext<{ postId: number }>,
  postId: number,
  reason: string,
) => Promise<void>;

/**
 * Middleware for a job whose payload is `{ postId }`: when the job's `ctx.signal` was aborted by
 * a cancel (jobsmith's JobCancelledError), the post is marked `cancelled` with the cancel's
 * reason, by `onCancel` when given (default: only the mark), whatever the handler then returned
 * or threw. A mark that fails is logged; the job's own outcome is kept.
 */
export function markPostCancelled(onCancel?: OnCancel): JobMiddleware<{ postId: number }> {
  return async (ctx, next) => {
    try {
      return await next();
    } finally {
      const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : undefined;
      // By name: the config's `jobsmith` may be another copy of the module than the worker's.
      if (reason instanceof Error && reason.name === 'JobCancelledError') {
        const why = `cancelled: ${(reason as Error & { reason?: string }).reason ?? reason.message}`;
        try {
          if (onCancel) await onCancel(ctx, ctx.payload.postId, why);
          else await (await pipelineStore()).posts.markCancelled(ctx.payload.postId, why);
        } catch (error) {
          ctx.log.error(
            `pipeline: post ${ctx.payload.postId}: marking it cancelled failed: ${(error as Error)?.message ?? error}`,
          );
        }
      }
    }
  };
}
