/**
 * History rows for waiting jobs cancelled before any worker ran them (`run queue:cancel` removes
 * them from their driver): written at once, by the command, as their retention says (by
 * default kept 7 days). A job cancelled while it ran is recorded by the worker's HistoryWriter
 * from its `job:cancelled` event instead.
 */
import type { Knex } from 'knex';
import { redact } from '../logging/redact.js';
import type { RetentionTable } from './retention.js';
import { insertHistory, type HistoryRow } from './store.js';

/** What a cancelled waiting job needs to say (a JobRow has it). */
export interface CancelledJob {
  id: string;
  name: string;
  queue: string;
  attempts: number;
  payload: string;
  /** Epoch ms it was dispatched. */
  createdAt: number;
  tags?: string[];
  /** The last progress an attempt reported (parsed JSON), null or absent for none. */
  progress?: unknown;
}

/** Resolves with the rows written (jobs whose retention keeps no cancels write none). */
export async function recordCancelled(
  knex: Knex,
  connection: string,
  jobs: readonly CancelledJob[],
  reason: string,
  retention: RetentionTable,
  now = Date.now(),
): Promise<number> {
  const rows: HistoryRow[] = [];
  for (const job of jobs) {
    const keepMs = retention.get(job.name, job.queue).cancelled;
    if (keepMs <= 0) continue;
    rows.push({
      connection,
      id: job.id,
      queue: job.queue,
      name: job.name,
      status: 'cancelled',
      attempts: job.attempts,
      payload: job.payload,
      result: null,
      error: redact(reason),
      progress: job.progress == null ? null : JSON.stringify(job.progress),
      tags: job.tags?.length ? JSON.stringify(job.tags) : null,
      dispatched_at: job.createdAt,
      started_at: null,
      finished_at: now,
      runtime_ms: null,
      expires_at: now + keepMs,
    });
  }
  await insertHistory(knex, rows);
  return rows.length;
}
