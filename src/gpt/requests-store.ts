/*
 * SQL for gpt_requests (migrations/0011_gpt_requests.ts): one function per statement. Every
 * write is keyed by the job's id; the first attempt inserts the row, later ones update it, so
 * a job that comes back through a lost lease or a put-back finds its row as it left it.
 */
import type { Database } from '../db/connection.js';
import type { GptResult } from '../config/define.js';
import { redact } from '../logging/redact.js';
import { WriteBatcher } from '../util/write-batcher.js';
import { sqliteBatchWriter } from '../db/sqlite-batch.js';

/** A row is written when an attempt ends: retrying (another comes), succeeded or failed. */
export const REQUEST_STATUSES = ['retrying', 'succeeded', 'failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** A row as commands read it; times are epoch ms. */
export interface RequestRow {
  id: number;
  jobId: string;
  queue: string;
  model: string;
  status: RequestStatus;
  attempts: number;
  prompt: string;
  responseText: string | null;
  responseJson: string | null;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  invalidReplies: number;
  error: string | null;
  metadata: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function fromRow(r: Record<string, unknown>): RequestRow {
  return {
    id: Number(r.id),
    jobId: String(r.job_id),
    queue: String(r.queue),
    model: String(r.model),
    status: r.status as RequestStatus,
    attempts: Number(r.attempts),
    prompt: String(r.prompt),
    responseText: (r.response_text as string | null) ?? null,
    responseJson: (r.response_json as string | null) ?? null,
    finishReason: (r.finish_reason as string | null) ?? null,
    promptTokens: n(r.prompt_tokens),
    completionTokens: n(r.completion_tokens),
    latencyMs: n(r.latency_ms),
    invalidReplies: Number(r.invalid_replies),
    error: (r.error as string | null) ?? null,
    metadata: (r.metadata as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: n(r.finished_at),
  };
}

/** What an attempt stores: who asked what, and how it went. */
export interface AttemptRecord {
  jobId: string;
  queue: string;
  model: string;
  attempt: number;
  /** The messages sent. */
  prompt: unknown;
  metadata?: unknown;
  latencyMs: number;
}

/**
 * An attempt succeeded: one upsert, the row's only write for a request that succeeds at once
 * (an attempt writes when it ends, not when it starts). Jobs that succeed while a write is
 * under way share the next one (WriteBatcher): at concurrency 8 most jobs pay a fraction of a
 * statement. Resolves once this job's row is stored.
 */
export function saveSucceeded(db: Database, r: AttemptRecord, result: GptResult): Promise<void> {
  const now = Date.now();
  const outcome = {
    status: 'succeeded',
    attempts: r.attempt,
    model: result.model,
    response_text: result.text,
    response_json: result.json === undefined ? null : JSON.stringify(result.json),
    finish_reason: result.finishReason,
    prompt_tokens: result.usage.promptTokens,
    completion_tokens: result.usage.completionTokens,
    latency_ms: r.latencyMs,
    error: null,
    updated_at: now,
    finished_at: now,
  };
  return succeededWriter(db).add({ ...first(r, now), ...outcome });
}

/** The columns a success overwrites on a row an earlier attempt wrote (not the first ones). */
const SUCCEEDED_COLUMNS = [
  'status',
  'attempts',
  'model',
  'response_text',
  'response_json',
  'finish_reason',
  'prompt_tokens',
  'completion_tokens',
  'latency_ms',
  'error',
  'updated_at',
  'finished_at',
];

/** Every column a success writes: the first attempt's and the outcome's. */
const SUCCEEDED_INSERT = [
  'job_id',
  'queue',
  'prompt',
  'metadata',
  'created_at',
  ...SUCCEEDED_COLUMNS,
];

const SUCCEEDED_UPSERT_SQL =
  `insert into gpt_requests (${SUCCEEDED_INSERT.join(', ')}) ` +
  `values (${SUCCEEDED_INSERT.map(() => '?').join(', ')}) on conflict (job_id) do update set ` +
  SUCCEEDED_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ');

const succeededWriters = new WeakMap<Database, WriteBatcher<Record<string, unknown>>>();

function succeededWriter(db: Database): WriteBatcher<Record<string, unknown>> {
  let writer = succeededWriters.get(db);
  if (!writer) {
    // On SQLite, a statement prepared once beats knex building one per batch (src/db/sqlite-batch.ts).
    const sqlite = sqliteBatchWriter(
      db.knex,
      SUCCEEDED_UPSERT_SQL,
      (row: Record<string, unknown>) => SUCCEEDED_INSERT.map((c) => row[c]),
    );
    writer = new WriteBatcher(async (rows) => {
      if (sqlite) return sqlite(rows);
      // One row per job: PostgreSQL refuses a statement that would update a row twice.
      const byJob = [...new Map(rows.map((row) => [row.job_id, row])).values()];
      await db.knex('gpt_requests').insert(byJob).onConflict('job_id').merge(SUCCEEDED_COLUMNS);
    });
    succeededWriters.set(db, writer);
  }
  return writer;
}

/**
 * An attempt failed: `retrying` until failed() says the job is over. `invalidReply` counts a
 * reply that did not parse or missed its schema; resolves with the count so far.
 */
export async function saveAttemptFailed(
  db: Database,
  r: AttemptRecord,
  f: { error: string; invalidReply: boolean },
): Promise<number> {
  const now = Date.now();
  const outcome = {
    status: 'retrying',
    attempts: r.attempt,
    error: redact(f.error),
    latency_ms: r.latencyMs,
    updated_at: now,
  };
  const add = f.invalidReply ? 1 : 0;
  await db
    .knex('gpt_requests')
    .insert({ ...first(r, now), ...outcome, invalid_replies: add })
    .onConflict('job_id')
    .merge({
      ...outcome,
      invalid_replies: db.knex.raw('gpt_requests.invalid_replies + ?', [add]),
    });
  const row = await db.knex('gpt_requests').where({ job_id: r.jobId }).first('invalid_replies');
  return Number(row?.invalid_replies ?? 0);
}

/** The columns a row gets when the first attempt that ends inserts it. */
function first(r: AttemptRecord, now: number) {
  return {
    job_id: r.jobId,
    queue: r.queue,
    model: r.model,
    prompt: JSON.stringify(r.prompt),
    metadata: r.metadata === undefined ? null : JSON.stringify(r.metadata),
    created_at: now,
  };
}

/** The job failed for good (failed() hook): the row says why. Inserts one for a job that never ran. */
export async function markFailed(
  db: Database,
  r: { jobId: string; queue: string; model: string; prompt: unknown; error: string },
): Promise<void> {
  const now = Date.now();
  const error = redact(r.error);
  await db
    .knex('gpt_requests')
    .insert({
      job_id: r.jobId,
      queue: r.queue,
      model: r.model,
      status: 'failed',
      prompt: JSON.stringify(r.prompt),
      error,
      created_at: now,
      updated_at: now,
      finished_at: now,
    })
    .onConflict('job_id')
    .merge({ status: 'failed', error, updated_at: now, finished_at: now });
}

export async function findRequest(db: Database, jobId: string): Promise<RequestRow | undefined> {
  const row = await db.knex('gpt_requests').where({ job_id: jobId }).first();
  return row ? fromRow(row) : undefined;
}

/**
 * Rows newest first, optionally of one status; with `beforeId`, only older rows than that one
 * (a keyset page: the primary key, or the (status, id) index, walked from there).
 */
export async function listRequests(
  db: Database,
  filter: { status?: RequestStatus; limit: number; beforeId?: number },
): Promise<RequestRow[]> {
  const q = db.knex('gpt_requests').orderBy('id', 'desc').limit(filter.limit);
  if (filter.status) q.where({ status: filter.status });
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId);
  return (await q.select()).map(fromRow);
}
