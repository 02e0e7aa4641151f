/**
 * The failed jobs of a batch, as batch:show and queue:retry-batch find them: the batch keeps the
 * ids of its failed jobs (job_batches.failed_job_ids); failed_jobs keeps each one's row under the
 * id it had (original_id), on its connection, failed after the batch was created.
 */
import type { Knex } from 'knex';
import { DatabaseFailedJobStore, type FailedJob } from '../../failed/store.js';
import type { BatchView } from './cli-present.js';

/** Ids looked up per statement. */
const LOOKUP_CHUNK = 500;

/** A failed job of a batch, with its failed_jobs row (null when it was forgotten or pruned). */
export interface BatchFailedJob {
  jobId: string;
  failed: FailedJob | null;
}

/**
 * The failed_jobs rows of the batch's failed jobs, in the batch's order. `limit` bounds how many
 * are looked up (a batch of 10,000 failures shows its first ones). The lookup goes by failed_at
 * (indexed) from the batch's creation, then by original_id: failed_jobs has no index on it.
 */
export async function failedJobsOf(
  knex: Knex,
  batch: BatchView,
  limit = Number.POSITIVE_INFINITY,
): Promise<BatchFailedJob[]> {
  const ids = batch.failedJobIds.slice(0, limit);
  const rows = new Map<string, FailedJob>();
  const store = new DatabaseFailedJobStore(knex);
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK);
    const q = knex('failed_jobs')
      .where('failed_at', '>=', batch.createdAt)
      .whereIn('original_id', chunk)
      .orderBy('id')
      .pluck('id');
    if (batch.connection) q.where('connection', batch.connection);
    const found = (await q) as Array<number | string>;
    if (found.length === 0) continue;
    // The latest row of an id wins: a job retried outside the batch and failed again.
    for (const row of await store.page({ ids: found.map(Number) }, 0, found.length)) {
      if (row.originalId !== null) rows.set(row.originalId, row);
    }
  }
  return ids.map((jobId) => ({ jobId, failed: rows.get(jobId) ?? null }));
}
