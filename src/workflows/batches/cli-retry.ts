/**
 * `run queue:retry-batch ID`: re-runs a batch's failed jobs from failed_jobs, as queue:retry
 * does (src/failed/retry.ts), as jobs of the same batch. Each job goes back with the batch's
 * header, so its new outcome is recorded against the batch, and in the same SQL transaction
 * the batch takes it back (store.ts reopenFailedJobs): one more pending, one less failed, its
 * failed outcome and its id in failed_job_ids forgotten, not finished (the outcome that takes pending to 0 again finishes it), and
 * not cancelled (a batch that failed without allowFailures was cancelled by its first failure:
 * it would skip the very jobs retried). Callbacks that already ran do not run again
 * (claimCallback); `then` runs if every job finally succeeded.
 *
 * On the `database` connection the failed rows move back into `jobs` in one transaction per
 * page (moveToJobsTable), batch counts included. On another connection (Redis) each job is
 * pushed inside the SQL transaction that forgets its failed row and counts it back: the batch
 * row is locked first, so the job cannot record its outcome before that transaction commits;
 * only a crash between the push and the commit can leave a copy of the job outside the counts
 * (at least once, as queue:retry).
 */
import type { Knex } from 'knex';
import type { Database } from '../../db/connection.js';
import { newJobFor } from '../../failed/retry.js';
import { moveToJobsTable, type Item, type Moved } from '../../failed/retry-database.js';
import type { FailedJob } from '../../failed/store.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { QueueDriver } from '../../queue/driver.js';
import { failedJobsOf } from './cli-failed.js';
import type { BatchView } from './cli-present.js';
import { cancelledJobsOf, findBatchView } from './cli-read.js';
import { BATCH_HEADER } from './headers.js';
import { reopenFailedJobs } from './store.js';

/** Failed jobs moved per transaction on the `database` connection. */
const PAGE = 200;

export interface RetryBatchDeps {
  db: Database;
  registry: JobRegistry;
  /** The queue driver of a connection by name (`app.queues().get`). */
  driver: (connection: string) => Promise<QueueDriver>;
}

/** A failed job of the batch, back on its queue as `jobId`. */
export interface RetriedBatchJob {
  failed: FailedJob;
  /** The id it had in the batch (its failed_jobs original_id). */
  oldJobId: string;
  jobId: string;
  unregistered: boolean;
}

/** A failed unique job kept in failed_jobs: another live job holds its key. */
export interface KeptBatchJob {
  failed: FailedJob;
  key: string;
  heldBy: string;
}

export interface RetryBatchResult {
  /** The batch after the retry. */
  batch: BatchView;
  /** The batch was cancelled before the retry, and is not any more. */
  resumed: boolean;
  /**
   * Its jobs that ended cancelled (before they ran, or while they ran): they are not in
   * failed_jobs, so they are not retried, and `then` will not run for the batch.
   */
  cancelledJobs: number;
  retried: RetriedBatchJob[];
  kept: KeptBatchJob[];
  /** Failed job ids of the batch with no failed_jobs row (forgotten or pruned): not retried. */
  missing: string[];
}

/** Re-runs the failed jobs of batch `id`; a JobsmithError (exit 1) when there is no such batch. */
export async function retryBatch(deps: RetryBatchDeps, id: string): Promise<RetryBatchResult> {
  const { knex } = deps.db;
  const before = await findBatchView(knex, id);
  const failed = await failedJobsOf(knex, before);
  const missing = failed.filter((f) => f.failed === null).map((f) => f.jobId);
  const items = failed
    .filter((f): f is { jobId: string; failed: FailedJob } => f.failed !== null)
    .map((f) => ({
      failed: f.failed,
      job: { ...newJobFor(f.failed, deps.registry), headers: { [BATCH_HEADER]: id } },
    }));
  const retried: RetriedBatchJob[] = [];
  const kept: KeptBatchJob[] = [];
  const done = (item: Item, jobId: string) =>
    retried.push({
      failed: item.failed,
      oldJobId: item.failed.originalId!,
      jobId,
      unregistered: deps.registry.get(item.failed.name) === undefined,
    });

  const local = items.filter((i) => i.failed.connection === 'database');
  for (let i = 0; i < local.length; i += PAGE) {
    const moved = await moveToJobsTable(deps.db, local.slice(i, i + PAGE), (trx, m) =>
      takeBack(
        trx,
        id,
        m.filter(isMoved).map((x) => x.item.failed.originalId!),
      ),
    );
    for (const m of moved) {
      if ('jobId' in m) done(m.item, m.jobId);
      else if ('heldBy' in m) kept.push({ failed: m.item.failed, key: m.key, heldBy: m.heldBy });
    }
  }
  for (const item of items.filter((i) => i.failed.connection !== 'database')) {
    const outcome = await pushAndTakeBack(deps, id, item);
    if (outcome === undefined) continue;
    if ('jobId' in outcome) done(item, outcome.jobId);
    else kept.push(outcome);
  }
  const batch = await findBatchView(knex, id);
  return {
    batch,
    resumed: before.cancelledAt !== null && batch.cancelledAt === null,
    cancelledJobs: await cancelledJobsOf(knex, id),
    retried,
    kept,
    missing,
  };
}

const isMoved = (m: Moved): m is { item: Item; jobId: string } => 'jobId' in m;

/** Thrown inside the transaction to undo a push the driver deduplicated (its key is held). */
class KeyHeld extends Error {
  constructor(readonly kept: KeptBatchJob) {
    super('unique key held');
  }
}

/**
 * For a connection outside the SQL storage: in one SQL transaction, locks the batch, forgets
 * the failed row (undefined when another retry took it first), pushes the job and counts it
 * back. A push that fails rolls the transaction back: the failed row stays.
 */
async function pushAndTakeBack(
  deps: RetryBatchDeps,
  batchId: string,
  item: Item,
): Promise<{ jobId: string } | KeptBatchJob | undefined> {
  const driver = await deps.driver(item.failed.connection);
  try {
    return await deps.db.knex.transaction(async (trx) => {
      await lockBatch(trx, batchId);
      const deleted = await trx('failed_jobs').where('id', item.failed.id).delete();
      if (deleted !== 1) return undefined;
      const [result] = await driver.push([item.job]);
      if (!result) throw new Error(`The ${driver.connection} connection stored no job.`);
      if (result.deduplicated && item.job.unique) {
        throw new KeyHeld({ failed: item.failed, key: item.job.unique.key, heldBy: result.id });
      }
      await takeBack(trx, batchId, [item.failed.originalId!]);
      return { jobId: result.id };
    });
  } catch (error) {
    if (error instanceof KeyHeld) return error.kept;
    throw error;
  }
}

/**
 * Locks the batch's row for the rest of the transaction (a no-op update: a row lock on
 * PostgreSQL, the write lock on SQLite), so that an outcome recorded meanwhile waits for us.
 */
async function lockBatch(trx: Knex.Transaction, batchId: string): Promise<void> {
  await trx('job_batches')
    .where({ id: batchId })
    .update({ pending: trx.raw('pending') });
}

/**
 * Counts the jobs `oldJobIds` (failed jobs of the batch, re-run) back into the batch, in the
 * caller's transaction (store.ts reopenFailedJobs, a savepoint of it): pending up and failed down
 * by those recorded as failed, their failed outcomes and ids forgotten, the batch neither
 * finished nor cancelled. Nothing when the batch is gone (pruned meanwhile).
 */
async function takeBack(
  trx: Knex.Transaction,
  batchId: string,
  oldJobIds: string[],
): Promise<void> {
  if (oldJobIds.length === 0) return;
  await reopenFailedJobs(trx, batchId, oldJobIds, { uncancel: true });
}
