/*
 * A worker's recent reads of batch rows, so that a batch of 10,000 jobs costs each worker about
 * one read of its row a second (the cancelled check and ctx.batch's counts), not one a job.
 */
import type { Knex } from 'knex';
import { findBatch, type BatchRecord } from './store.js';

/** How long a read row is used before it is read again, ms. A cancel reaches workers within it. */
export const BATCH_CACHE_MS = 1000;
/** Rows kept at most; the oldest go first. */
const MAX_ROWS = 1000;

const rows = new Map<
  string,
  { batch: BatchRecord | undefined; at: number; read?: Promise<BatchRecord | undefined> }
>();

/** The batch's row as read at most BATCH_CACHE_MS ago (one read for the jobs that ask at once). */
export async function recentBatch(db: Knex, id: string): Promise<BatchRecord | undefined> {
  const now = Date.now();
  const held = rows.get(id);
  if (held && now - held.at < BATCH_CACHE_MS) return held.read ?? held.batch;
  const read = findBatch(db, id);
  rows.set(id, { batch: held?.batch, at: now, read });
  try {
    const batch = await read;
    remember(id, batch, now);
    return batch;
  } catch (error) {
    rows.delete(id);
    throw error;
  }
}

/** Keeps a row just read or written (the outcome a job recorded returns it). */
export function remember(id: string, batch: BatchRecord | undefined, at = Date.now()): void {
  rows.delete(id);
  rows.set(id, { batch, at });
  if (rows.size > MAX_ROWS) rows.delete(rows.keys().next().value!);
}
