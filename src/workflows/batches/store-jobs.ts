/*
 * Stores a batch's row and its jobs, or adds jobs to a batch, so that a crash never leaves a
 * counter that a job will decrement without its row being there, nor a job counted twice:
 *
 * - Where the queue lives in the SQL storage and offers a transaction (PostgreSQL's `database`
 *   queue), the row (or its growth) and the jobs commit together or not at all.
 * - Elsewhere (SQLite's own connection, Redis) the row goes first, with every job counted, then
 *   the jobs are pushed (all or none: one push). A crash between the two leaves a batch that
 *   never finishes and holds no jobs (nothing ran, no callback runs); `run
 *   queue:prune-batches --unfinished` removes it. A push that fails takes the row back.
 */
import type { Knex } from 'knex';
import type { Dispatcher } from '../../queue/dispatcher.js';
import type { NewJob } from '../../queue/driver.js';
import { growBatch, insertBatch, type BatchOptions } from './store.js';

/** Where a batch's row and jobs go. */
export interface BatchStorage {
  db: Knex;
  dispatcher: Dispatcher;
  /** The jobs' connection; undefined: QUEUE_CONNECTION. */
  connection: string | undefined;
}

/** Stores a new batch with its jobs; resolves with the jobs' ids, in order. */
export async function storeBatch(
  to: BatchStorage,
  batch: { id: string; name: string | null; options: BatchOptions; now: number },
  jobs: NewJob[],
): Promise<string[]> {
  const row = { ...batch, total: jobs.length };
  const transactional = await to.dispatcher.transactional(to.connection);
  if (transactional) {
    return transactional(async (trx, _many, pushPrepared) => {
      await insertBatch(trx, row);
      return ids(await pushPrepared(jobs));
    });
  }
  await insertBatch(to.db, row);
  try {
    return ids(await to.dispatcher.push(jobs, to.connection));
  } catch (error) {
    // Nothing was stored (a push is all or none): the row goes too, if the storage lets us.
    await to
      .db('job_batches')
      .where({ id: batch.id })
      .delete()
      .catch(() => undefined);
    throw error;
  }
}

/**
 * Adds jobs to a batch that has not finished; resolves with their ids, or undefined when the
 * batch is gone or finished. Counted before they are pushed (see the file comment).
 */
export async function addToBatch(
  to: BatchStorage,
  batchId: string,
  jobs: NewJob[],
): Promise<string[] | undefined> {
  if (jobs.length === 0) return [];
  const transactional = await to.dispatcher.transactional(to.connection);
  if (transactional) {
    return transactional(async (trx, _many, pushPrepared) => {
      if (!(await growBatch(trx, batchId, jobs.length))) return undefined;
      return ids(await pushPrepared(jobs));
    });
  }
  if (!(await growBatch(to.db, batchId, jobs.length))) return undefined;
  return ids(await to.dispatcher.push(jobs, to.connection));
}

function ids(results: Array<{ id: string }>): string[] {
  return results.map((r) => r.id);
}
