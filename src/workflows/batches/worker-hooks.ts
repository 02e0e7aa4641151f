/*
 * What a worker does before it runs a job that carries a batch header (execute, in
 * src/worker/executor.ts; loaded only for such a job):
 * - a batch's job: ctx.batch from the batch's row (read at most once a second per worker,
 *   cache.ts); when the batch is cancelled the job ends `cancelled` without running;
 * - a callback job: ctx.batch from a fresh read; the job runs only if it wins the callback's
 *   run (claimCallback), else it ends skipped (a copy pushed again after a crash).
 */
import { JobCancelledError } from '../../cancel/errors.js';
import type { ClaimedJob } from '../../queue/driver.js';
import type { WorkflowServices } from '../../worker/deps.js';
import type { Decision } from '../../worker/executor.js';
import type { LazyJobContext } from '../../worker/job-context.js';
import { recentBatch } from './cache.js';
import { batchContext } from './context.js';
import { BATCH_CALLBACK_HEADER, BATCH_HEADER, readCallbackHeader } from './headers.js';
import { claimCallback, findBatch } from './store.js';

/** Sets ctx.batch; returns a decision when the job must not run, else undefined. */
export async function beforeBatchJob(
  job: ClaimedJob,
  context: LazyJobContext,
  services: WorkflowServices,
): Promise<Decision | undefined> {
  const db = await services.db();
  const batchId = job.headers?.[BATCH_HEADER];
  if (batchId !== undefined) {
    const batch = await recentBatch(db, batchId);
    // A pruned batch: the job runs as a plain one.
    if (!batch) return undefined;
    context.batch = batchContext(batch, services);
    if (batch.cancelledAt !== null) {
      return {
        action: 'cancel',
        error: new JobCancelledError(job.id, job.name, `its batch ${batch.id} was cancelled`),
        stuck: false,
      };
    }
    return undefined;
  }
  const callback = readCallbackHeader(job.headers?.[BATCH_CALLBACK_HEADER]);
  if (!callback) return undefined;
  if (!(await claimCallback(db, callback.batchId, callback.kind, job.id))) {
    return {
      action: 'skip',
      reason: `the ${callback.kind} callback of batch ${callback.batchId} already ran`,
    };
  }
  const batch = await findBatch(db, callback.batchId);
  if (batch) context.batch = batchContext(batch, services);
  return undefined;
}
