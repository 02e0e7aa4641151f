/**
 * `run batch:cancel`: sets a batch's cancelled_at, unless it is already cancelled or finished.
 * The engine does the rest: a job of a cancelled batch ends `cancelled` when a worker claims it.
 */
import type { Knex } from 'knex';
import type { BatchView } from './cli-present.js';
import { findBatchView } from './cli-read.js';

/**
 * Cancels the batch `id` now, by one conditional update: a batch already cancelled keeps its
 * first time, and a finished one is left as it is (store.ts cancelBatch would mark it too: a
 * finished batch shown as cancelled, and its `then` no longer pushed again after a crash).
 * `cancelled` says whether this call cancelled it. A JobsmithError (exit 1) when there is none.
 */
export async function cancelBatchView(
  knex: Knex,
  id: string,
  now = Date.now(),
): Promise<{ cancelled: boolean; batch: BatchView }> {
  const changed = await knex('job_batches')
    .where({ id })
    .whereNull('cancelled_at')
    .whereNull('finished_at')
    .update({ cancelled_at: now });
  return { cancelled: changed === 1, batch: await findBatchView(knex, id) };
}
