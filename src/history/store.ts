/**
 * job_history and job_attempts (migration 0015), in the SQL storage every driver shares: one
 * function per statement, as the failed-job store. The HistoryWriter inserts, `queue:history`
 * and `queue:show` read, `queue:prune-history` and the worker's pruner delete.
 */
import type { Knex } from 'knex';
import { sqliteBatchWriter } from '../db/sqlite-batch.js';
import { storableError } from '../queue/storable.js';
import type { FinalStatus } from './retention.js';

/** One job_history row as written. Times are epoch ms. */
export interface HistoryRow {
  connection: string;
  id: string;
  queue: string;
  name: string;
  status: FinalStatus;
  attempts: number;
  payload: string;
  /** JSON text (see result-json.ts), or null when the handler returned nothing. */
  result: string | null;
  error: string | null;
  progress: string | null;
  /** JSON array text, or null. */
  tags: string | null;
  dispatched_at: number | null;
  started_at: number | null;
  finished_at: number;
  runtime_ms: number | null;
  expires_at: number;
}

/** One job_attempts row: an attempt that did not end its job. */
export interface AttemptRow {
  connection: string;
  job_id: string;
  attempt: number;
  started_at: number;
  ended_at: number;
  /** `released` (retry), `put_back` (RetryAfter, attempt refunded), `abandoned` (shutdown). */
  outcome: string;
  error: string | null;
  expires_at: number;
}

/** A finished job as listings show it. */
export interface HistoryEntry {
  connection: string;
  id: string;
  queue: string;
  name: string;
  status: FinalStatus;
  attempts: number;
  payload: string;
  result: unknown;
  error: string | null;
  progress: unknown;
  tags: string[];
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string;
  runtimeMs: number | null;
  expiresAt: string;
}

export interface HistoryFilter {
  queue?: string;
  name?: string;
  status?: FinalStatus;
  /** Only jobs finished at or after this moment. */
  since?: Date;
  tag?: string;
  connection?: string;
}

/** Rows per insert: well under SQLite's 32,766 bound parameters at 16 columns a row. */
const INSERT_CHUNK = 500;

/**
 * Writes finished jobs. A job id seen again on its connection (an SQLite id reused once its
 * row is gone) replaces the older row: the newest job with that id is the one to show.
 */
export async function insertHistory(knex: Knex, given: readonly HistoryRow[]): Promise<void> {
  if (given.length === 0) return;
  const rows = given.map(storableRow);
  // On SQLite: one prepared upsert per row in one transaction (src/db/sqlite-batch.ts).
  const sqlite = sqliteBatchWriter(knex, UPSERT_SQL, (row: HistoryRow) =>
    HISTORY_COLUMNS.map((c) => row[c]),
  );
  if (sqlite) return sqlite(rows);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    await knex('job_history').insert(chunk).onConflict(['id', 'connection']).merge();
  }
}

const HISTORY_COLUMNS = [
  'connection',
  'id',
  'queue',
  'name',
  'status',
  'attempts',
  'payload',
  'result',
  'error',
  'progress',
  'tags',
  'dispatched_at',
  'started_at',
  'finished_at',
  'runtime_ms',
  'expires_at',
] as const satisfies ReadonlyArray<keyof HistoryRow>;

const UPSERT_SQL = `insert into job_history (${HISTORY_COLUMNS.join(', ')}) values (${HISTORY_COLUMNS.map(() => '?').join(', ')}) on conflict (id, connection) do update set ${HISTORY_COLUMNS.filter(
  (c) => c !== 'id' && c !== 'connection',
)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

export async function insertAttempts(knex: Knex, given: readonly AttemptRow[]): Promise<void> {
  const rows = given.map(storableRow);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await knex('job_attempts').insert(rows.slice(i, i + INSERT_CHUNK));
  }
}

/**
 * A row whose error PostgreSQL can hold (no NUL, no lone surrogate), masked and bounded as a
 * job's stored error is everywhere (src/queue/storable.ts). Results, progress and tags are JSON
 * text already (JSON.stringify escapes both), payloads were made storable at dispatch.
 */
function storableRow<R extends { error: string | null }>(row: R): R {
  if (row.error === null) return row;
  const error = storableError(row.error)!;
  return error === row.error ? row : { ...row, error };
}

function where(knex: Knex, filter: HistoryFilter) {
  const q = knex('job_history');
  if (filter.connection) q.where('connection', filter.connection);
  if (filter.queue) q.where('queue', filter.queue);
  if (filter.name) q.where('name', filter.name);
  if (filter.status) q.where('status', filter.status);
  if (filter.since) q.where('finished_at', '>=', filter.since.getTime());
  // Tags are stored as a JSON array: a tag matches as one whole quoted element.
  if (filter.tag)
    q.whereRaw(`tags like ? escape '\\'`, [`%${likeText(JSON.stringify(filter.tag))}%`]);
  return q;
}

function likeText(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Where a page of history stopped: its last row's key (listHistory's order). */
export interface HistoryKey {
  /** Epoch ms. */
  finishedAt: number;
  id: string;
  connection: string;
}

/**
 * The newest finished jobs first (then by id and connection, a total order), at most `limit`;
 * with `before`, only those after that row in this order (a keyset page: the `finished_at`
 * indexes are walked from there on).
 */
export async function listHistory(
  knex: Knex,
  filter: HistoryFilter,
  limit: number,
  before?: HistoryKey,
): Promise<HistoryEntry[]> {
  const q = where(knex, filter);
  if (before) {
    const { finishedAt: at, id, connection } = before;
    // The first condition bounds the index range; the second is the exact keyset.
    q.where('finished_at', '<=', at).where((w) =>
      w
        .where('finished_at', '<', at)
        .orWhere((same) =>
          same
            .where('finished_at', at)
            .where((k) =>
              k
                .where('id', '<', id)
                .orWhere((e) => e.where('id', id).where('connection', '<', connection)),
            ),
        ),
    );
  }
  const rows = await q
    .orderBy('finished_at', 'desc')
    .orderBy('id', 'desc')
    .orderBy('connection', 'desc')
    .limit(limit);
  return rows.map(toEntry);
}

/** A row's key, to page on from it. */
export function historyKey(e: HistoryEntry): HistoryKey {
  return { finishedAt: Date.parse(e.finishedAt), id: e.id, connection: e.connection };
}

export async function countHistory(knex: Knex, filter: HistoryFilter): Promise<number> {
  const [row] = await where(knex, filter).count({ n: '*' });
  return Number(row?.n ?? 0);
}

/** The newest history row of a job id (any connection unless given). */
export async function findHistory(
  knex: Knex,
  id: string,
  connection?: string,
): Promise<HistoryEntry | undefined> {
  const q = knex('job_history').where('id', id);
  if (connection) q.where('connection', connection);
  const row = await q.orderBy('finished_at', 'desc').first();
  return row ? toEntry(row) : undefined;
}

/** The attempts of a job that did not end it, in order. */
export async function findAttempts(
  knex: Knex,
  connection: string,
  jobId: string,
): Promise<AttemptRow[]> {
  const rows = await knex('job_attempts')
    .where({ connection, job_id: jobId })
    .orderBy('started_at')
    .orderBy('seq');
  return rows.map((r: Record<string, unknown>) => ({
    connection: String(r.connection),
    job_id: String(r.job_id),
    attempt: Number(r.attempt),
    started_at: Number(r.started_at),
    ended_at: Number(r.ended_at),
    outcome: String(r.outcome),
    error: (r.error as string | null) ?? null,
    expires_at: Number(r.expires_at),
  }));
}

/**
 * Deletes at most `limit` rows of job_history whose expiry has passed (`expiredBefore`), or any
 * row when `expiredBefore` is undefined, matching `status` when given; the keys are read first
 * so PostgreSQL and SQLite delete the same bounded batch. Resolves with the rows deleted.
 */
export async function pruneHistoryBatch(
  knex: Knex,
  options: { expiredBefore?: number; status?: FinalStatus; limit: number },
): Promise<number> {
  const q = knex('job_history').select('connection', 'id').limit(options.limit);
  if (options.expiredBefore !== undefined) q.where('expires_at', '<', options.expiredBefore);
  if (options.status) q.where('status', options.status);
  const keys = (await q) as Array<{ connection: string; id: string }>;
  if (keys.length === 0) return 0;
  return knex('job_history')
    .whereIn(
      ['connection', 'id'],
      keys.map((k) => [k.connection, k.id]),
    )
    .delete();
}

/** As pruneHistoryBatch, for job_attempts (no status: attempts have none). */
export async function pruneAttemptsBatch(
  knex: Knex,
  options: { expiredBefore?: number; limit: number },
): Promise<number> {
  const q = knex('job_attempts').select('seq').limit(options.limit);
  if (options.expiredBefore !== undefined) q.where('expires_at', '<', options.expiredBefore);
  const seqs = ((await q) as Array<{ seq: number | string }>).map((r) => r.seq);
  if (seqs.length === 0) return 0;
  return knex('job_attempts').whereIn('seq', seqs).delete();
}

function parsed(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function iso(ms: unknown): string | null {
  return ms == null ? null : new Date(Number(ms)).toISOString();
}

function toEntry(r: Record<string, unknown>): HistoryEntry {
  const tags = parsed(r.tags);
  return {
    connection: String(r.connection),
    id: String(r.id),
    queue: String(r.queue),
    name: String(r.name),
    status: r.status as FinalStatus,
    attempts: Number(r.attempts),
    payload: String(r.payload),
    result: parsed(r.result),
    error: (r.error as string | null) ?? null,
    progress: parsed(r.progress),
    tags: Array.isArray(tags) ? tags.map(String) : [],
    dispatchedAt: iso(r.dispatched_at),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at)!,
    runtimeMs: r.runtime_ms == null ? null : Number(r.runtime_ms),
    expiresAt: iso(r.expires_at)!,
  };
}
