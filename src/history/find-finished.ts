/**
 * A finished job by its id, for `run queue:show ID` once the driver no longer holds it: its
 * job_history row and the attempts before its last (job_attempts), or else, for a failed job
 * history does not keep (retain.failed false, a row pruned, a job that failed before history
 * existed), its failed_jobs record by original id. Null when neither knows the id.
 */
import type { Knex } from 'knex';
import { readTags } from '../jobs/tags.js';
import { findAttempts, findHistory } from './store.js';
import type { FinalStatus } from './retention.js';

/** One step of a job's life, oldest first. Times are ISO 8601. */
export type TimelineEntry =
  | { event: 'dispatched'; at: string }
  | {
      event: 'attempt';
      attempt: number;
      startedAt: string | null;
      endedAt: string;
      /** `released`, `put_back`, `abandoned`; the last attempt's is the job's status. */
      outcome: string;
      error: string | null;
    };

export interface FinishedJob {
  /** Where it was found: job_history, or failed_jobs alone. */
  source: 'history' | 'failed_jobs';
  id: string;
  connection: string;
  queue: string;
  name: string;
  status: FinalStatus;
  attempts: number;
  payload: string;
  /** The handler's return value (parsed JSON), null when none was kept. */
  result: unknown;
  error: string | null;
  progress: unknown;
  tags: string[];
  finishedAt: string;
  runtimeMs: number | null;
  timeline: TimelineEntry[];
}

/**
 * `connection`: only a job of that queue connection (queue:show's); any when left out, the
 * newest first.
 */
export async function findFinished(
  id: string,
  knex: Knex,
  options: { connection?: string } = {},
): Promise<FinishedJob | null> {
  const row = await findHistory(knex, id, options.connection);
  if (row) {
    const attempts = await findAttempts(knex, row.connection, row.id);
    const timeline: TimelineEntry[] = [];
    if (row.dispatchedAt) timeline.push({ event: 'dispatched', at: row.dispatchedAt });
    for (const a of attempts) {
      timeline.push({
        event: 'attempt',
        attempt: a.attempt,
        startedAt: new Date(a.started_at).toISOString(),
        endedAt: new Date(a.ended_at).toISOString(),
        outcome: a.outcome,
        error: a.error,
      });
    }
    timeline.push({
      event: 'attempt',
      attempt: row.attempts,
      startedAt: row.startedAt,
      endedAt: row.finishedAt,
      outcome: row.status,
      error: row.error === null ? null : firstLine(row.error),
    });
    return {
      source: 'history',
      id: row.id,
      connection: row.connection,
      queue: row.queue,
      name: row.name,
      status: row.status,
      attempts: row.attempts,
      payload: row.payload,
      result: row.result,
      error: row.error,
      progress: row.progress,
      tags: row.tags,
      finishedAt: row.finishedAt,
      runtimeMs: row.runtimeMs,
      timeline,
    };
  }
  return fromFailedJobs(knex, id, options.connection);
}

async function fromFailedJobs(
  knex: Knex,
  id: string,
  connection: string | undefined,
): Promise<FinishedJob | null> {
  const q = knex('failed_jobs').where('original_id', id);
  if (connection) q.where('connection', connection);
  const r = (await q.orderBy('id', 'desc').first()) as Record<string, unknown> | undefined;
  if (!r) return null;
  const jobConnection = String(r.connection);
  const failedAt = new Date(Number(r.failed_at)).toISOString();
  const attempts = await findAttempts(knex, jobConnection, id);
  const timeline: TimelineEntry[] = attempts.map((a) => ({
    event: 'attempt',
    attempt: a.attempt,
    startedAt: new Date(a.started_at).toISOString(),
    endedAt: new Date(a.ended_at).toISOString(),
    outcome: a.outcome,
    error: a.error,
  }));
  const exception = String(r.exception);
  timeline.push({
    event: 'attempt',
    attempt: Number(r.attempts),
    startedAt: null,
    endedAt: failedAt,
    outcome: 'failed',
    error: firstLine(exception),
  });
  return {
    source: 'failed_jobs',
    id,
    connection: jobConnection,
    queue: String(r.queue),
    name: String(r.name),
    status: 'failed',
    attempts: Number(r.attempts),
    payload: String(r.payload),
    result: null,
    error: exception,
    progress: null,
    tags: readTags(r.tags),
    finishedAt: failedAt,
    runtimeMs: null,
    timeline,
  };
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i === -1 ? text : text.slice(0, i);
}
