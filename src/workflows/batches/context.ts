/*
 * ctx.batch (BatchContext in src/jobs/types.ts) for a batch's job or callback.
 */
import { ConfigError } from '../../errors.js';
import type { BatchContext } from '../../jobs/types.js';
import type { WorkflowServices } from '../../worker/deps.js';
import type { AnyStep } from './builder.js';
import { batchJobs, checkSteps } from './jobs.js';
import { addToBatch } from './store-jobs.js';
import { batchProgress, findBatch, type BatchRecord } from './store.js';

/** The context a job of `batch` gets, its counts as `batch` holds them. */
export function batchContext(batch: BatchRecord, services: WorkflowServices): BatchContext {
  return {
    id: batch.id,
    name: batch.name,
    total: batch.total,
    pending: batch.pending,
    failed: batch.failed,
    progress: batchProgress(batch),
    async cancelled() {
      const now = await findBatch(await services.db(), batch.id);
      return now?.cancelledAt != null;
    },
    async add(steps: ReadonlyArray<AnyStep>) {
      const jobs = batchJobs(checkSteps(steps, 'ctx.batch.add'), batch.id, batch.options.queue);
      const ids = await addToBatch(
        {
          db: await services.db(),
          dispatcher: services.dispatcher,
          connection: batch.options.connection ?? services.connection,
        },
        batch.id,
        jobs,
      );
      if (ids === undefined) {
        throw new ConfigError(
          `Batch ${batch.id} has finished (or was pruned): jobs cannot be added to it.`,
          { hint: 'Add jobs from a job of the batch while it runs, not from its callbacks.' },
        );
      }
      return ids;
    },
  };
}
