/*
 * A batch job's final outcome, recorded by the worker just before the job's own settling write
 * (Settler.settle): the outcome and the counters in one SQL transaction (record-outcome.ts
 * recordOutcome), then the callbacks that outcome made due are pushed, each with a unique key.
 *
 * Exactly once: a crash after the record and before the settle runs the job again; its second
 * record changes nothing and pushes again whatever the batch's state makes due (a callback whose
 * push the crash cut off). A callback pushed twice is stored once while the first waits (its
 * unique key), and runs once in any case (claimCallback, in worker-hooks.ts).
 */
import type { ClaimedJob } from '../../queue/driver.js';
import type { WorkflowServices } from '../../worker/deps.js';
import { remember } from './cache.js';
import { callbackJob } from './jobs.js';
import { BATCH_HEADER } from './headers.js';
import { recordOutcome } from './record-outcome.js';
import { type BatchOutcome, type BatchRecord, type BatchCallbackKind } from './store.js';

/** The final outcome a worker's decision is for a batch job; undefined for one that is not final. */
export function outcomeOf(action: string): BatchOutcome | undefined {
  switch (action) {
    case 'complete':
    case 'skip':
      return 'succeeded';
    case 'fail':
      return 'failed';
    case 'cancel':
      return 'cancelled';
    default:
      // retry, abandon: the job runs again.
      return undefined;
  }
}

/** Records a batch job's final outcome, then pushes the callbacks it made due. */
export async function recordBatchOutcome(
  job: ClaimedJob,
  outcome: BatchOutcome,
  services: WorkflowServices,
): Promise<void> {
  const batchId = job.headers?.[BATCH_HEADER];
  if (batchId === undefined) return;
  const db = await services.db();
  const recorded = await recordOutcome(db, {
    batchId,
    jobId: job.id,
    outcome,
    now: Date.now(),
    // The database queue keeps its jobs in this same SQL storage, and settles after this.
    sameStorage: services.connection === 'database',
  });
  remember(batchId, recorded.batch);
  if (recorded.batch && recorded.due.length > 0)
    await pushCallbacks(recorded.batch, recorded.due, services);
}

/** Pushes the callback jobs (catch first), each with its unique key. */
export async function pushCallbacks(
  batch: BatchRecord,
  kinds: BatchCallbackKind[],
  services: WorkflowServices,
): Promise<void> {
  const jobs = kinds.map((k) => callbackJob(batch, k)).filter((j) => j !== undefined);
  if (jobs.length === 0) return;
  await services.dispatcher.push(jobs, batch.options.connection ?? services.connection);
}
