/**
 * `run queue:prune-batches`: deletes old batches (job_batches rows and their job_batch_jobs
 * rows), with Laravel's queue:prune-batches semantics. A chunk of batches goes in one short
 * transaction, so no statement holds the tables long and a crash leaves no half-pruned batch.
 */
import type { Knex } from 'knex';

/** Batches deleted per transaction. */
export const PRUNE_CHUNK = 500;

/** What to prune; each cut-off is epoch ms, and a kind without one is left alone. */
export interface PruneBatchesOptions {
  /** Finished batches (finished_at set) that finished before this. */
  finishedBefore: number;
  /** Unfinished batches (finished_at null) created before this. */
  unfinishedBefore?: number;
  /** Cancelled batches (cancelled_at set, finished or not) created before this. */
  cancelledBefore?: number;
  /** @defaultValue PRUNE_CHUNK */
  chunk?: number;
}

/** Batches deleted, by the rule that deleted them (a batch counts once, in this order). */
export interface PrunedBatches {
  finished: number;
  unfinished: number;
  cancelled: number;
}

/**
 * Deletes finished batches older than `finishedBefore`, then (when asked) unfinished ones and
 * cancelled ones created before their cut-offs, as Laravel's prune, pruneUnfinished and
 * pruneCancelled do. Jobs of a pruned batch that are still queued run as plain jobs.
 */
export async function pruneBatches(knex: Knex, o: PruneBatchesOptions): Promise<PrunedBatches> {
  const chunk = o.chunk ?? PRUNE_CHUNK;
  const finished = await pruneWhere(knex, chunk, (q) =>
    q.whereNotNull('finished_at').where('finished_at', '<', o.finishedBefore),
  );
  const unfinished =
    o.unfinishedBefore === undefined
      ? 0
      : await pruneWhere(knex, chunk, (q) =>
          q.whereNull('finished_at').where('created_at', '<', o.unfinishedBefore!),
        );
  const cancelled =
    o.cancelledBefore === undefined
      ? 0
      : await pruneWhere(knex, chunk, (q) =>
          q.whereNotNull('cancelled_at').where('created_at', '<', o.cancelledBefore!),
        );
  return { finished, unfinished, cancelled };
}

async function pruneWhere(
  knex: Knex,
  chunk: number,
  where: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<number> {
  let deleted = 0;
  // Bounded: each round deletes up to `chunk` batches, and stops on a round that deletes none.
  for (;;) {
    const n = await knex.transaction(async (trx) => {
      // One statement chooses the batches and locks them (a no-op update: their row locks on
      // PostgreSQL, the write lock on SQLite, which a transaction that starts with a read may be
      // refused at once under contention), so each still meets its condition when it is deleted.
      // knex gives `returning` on an update, not on a delete, with better-sqlite3.
      const chosen = where(trx('job_batches').select('id')).orderBy('id').limit(chunk);
      // The condition again on the rows updated: PostgreSQL checks it against a row that changed
      // while the statement waited for its lock.
      const rows = (await where(trx('job_batches').whereIn('id', chosen))
        .returning('id')
        .update({ pending: trx.raw('pending') })) as Array<{ id: string }>;
      const ids = rows.map((r) => r.id);
      if (ids.length > 0) {
        await trx('job_batches').whereIn('id', ids).delete();
        await trx('job_batch_jobs').whereIn('batch_id', ids).delete();
      }
      return ids.length;
    });
    deleted += n;
    if (n === 0) return deleted;
  }
}
