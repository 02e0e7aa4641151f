/*
 * SQL of job_batches and job_batch_jobs (migrations/0024_job_batches.ts), one function per
 * statement or transaction. Every function takes the SQL storage's knex, or a transaction of it
 * (Knex.Transaction is a Knex), so that a caller can join its own statements.
 *
 * The words: a batch's **total** is how many jobs it was given (add() raises it); **pending**
 * how many have no final outcome yet; a job's **final outcome** is `succeeded`, `failed` (no
 * tries left, or failed permanently) or `cancelled` (ended unrun because its batch was
 * cancelled, or cancelled while it ran). A released or retried attempt is not an outcome.
 */
import type { Knex } from 'knex';

/** A job's final outcome, as job_batch_jobs keeps it. */
export type BatchOutcome = 'succeeded' | 'failed' | 'cancelled';

/** The callbacks a batch can have; each runs at most once, as a job. */
export type BatchCallbackKind = 'then' | 'catch' | 'finally';

/** A callback job as the batch keeps it: what dispatch needs, already checked. */
export interface StoredStep {
  /** The job's name (defineJob's `name`): the worker finds the definition by it. */
  name: string;
  /** Queue to push onto; null: the job's own (or the batch's onQueue). */
  queue: string | null;
  /** The payload as dispatch stores it (already through the job's schema). */
  payload: unknown;
  /** The step's dispatch options (delay, priority, tries, tags...), as given. */
  options: Record<string, unknown>;
}

/** `job_batches.options`, as JSON. */
export interface BatchOptions {
  /** A failed job does not cancel the batch. @defaultValue false */
  allowFailures: boolean;
  /** The queue the batch's jobs and callbacks go to when their step names none; null: each job's. */
  queue: string | null;
  /** The connection of the batch's jobs and callbacks; null: QUEUE_CONNECTION. */
  connection: string | null;
  then: StoredStep | null;
  catch: StoredStep | null;
  finally: StoredStep | null;
  /**
   * The callback jobs that have started, by kind: the id of the job that won the run
   * (claimCallback). A copy of a callback pushed again after a crash finds its kind taken and
   * ends without running.
   */
  ran: Partial<Record<BatchCallbackKind, string>>;
}

/** A row of job_batches. Times are epoch ms. */
export interface BatchRecord {
  id: string;
  name: string | null;
  total: number;
  pending: number;
  failed: number;
  /** Ids of the jobs that finally failed, in the order they failed. */
  failedJobIds: string[];
  options: BatchOptions;
  cancelledAt: number | null;
  createdAt: number;
  /** When the last job got its final outcome (pending reached 0); null until then. */
  finishedAt: number | null;
}

export const BATCHES = 'job_batches';
export const OUTCOMES = 'job_batch_jobs';

/** Share of the batch's jobs that have their final outcome, 0 to 100, rounded down. */
export function batchProgress(batch: Pick<BatchRecord, 'total' | 'pending'>): number {
  if (batch.total <= 0) return 100;
  return Math.floor(((batch.total - batch.pending) / batch.total) * 100);
}

/** Reads a stored JSON text column, or `fallback` when it is not readable. */
function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toOptions(text: unknown): BatchOptions {
  const o = parseJson<Partial<BatchOptions>>(text, {});
  return {
    allowFailures: o.allowFailures === true,
    queue: o.queue ?? null,
    connection: o.connection ?? null,
    then: o.then ?? null,
    catch: o.catch ?? null,
    finally: o.finally ?? null,
    ran: o.ran ?? {},
  };
}

export function toBatch(row: Record<string, unknown>): BatchRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(row.id),
    name: (row.name as string | null) ?? null,
    total: Number(row.total),
    pending: Number(row.pending),
    failed: Number(row.failed),
    failedJobIds: parseJson<unknown[]>(row.failed_job_ids, []).map(String),
    options: toOptions(row.options),
    cancelledAt: num(row.cancelled_at),
    createdAt: Number(row.created_at),
    finishedAt: num(row.finished_at),
  };
}

/** The batch with this id, or undefined. */
export async function findBatch(db: Knex, id: string): Promise<BatchRecord | undefined> {
  const row = await db(BATCHES).where({ id }).first();
  return row ? toBatch(row) : undefined;
}

/**
 * One page of batches, newest first: at most `limit` (default 50) rows created before the
 * batch `after` (its id, from the last row of the previous page; none: from the newest).
 */
export async function listBatches(
  db: Knex,
  { limit = 50, after }: { limit?: number; after?: string } = {},
): Promise<BatchRecord[]> {
  const q = db(BATCHES).orderBy([
    { column: 'created_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ]);
  if (after !== undefined) {
    const from = await db(BATCHES).where({ id: after }).first('created_at');
    if (!from) return [];
    const at = Number(from.created_at);
    q.where((w) =>
      w
        .where('created_at', '<', at)
        .orWhere((x) => x.where('created_at', at).where('id', '<', after)),
    );
  }
  const rows = await q.limit(limit);
  return rows.map(toBatch);
}

/**
 * Cancels a batch: its jobs that have not started yet end `cancelled` when a worker claims them
 * (running jobs finish; they can look at ctx.batch.cancelled()). Returns the batch as it is
 * now, or undefined when there is none. A batch already cancelled keeps its first time.
 */
export async function cancelBatch(
  db: Knex,
  id: string,
  now: number,
): Promise<BatchRecord | undefined> {
  await db(BATCHES).where({ id }).whereNull('cancelled_at').update({ cancelled_at: now });
  return findBatch(db, id);
}

/**
 * Stores a new batch's row, with `total` jobs all pending. Called before its jobs are pushed
 * (or in the transaction that pushes them), so that no job can record an outcome against a row
 * that is not there.
 */
export async function insertBatch(
  db: Knex,
  batch: { id: string; name: string | null; total: number; options: BatchOptions; now: number },
): Promise<void> {
  await db(BATCHES).insert({
    id: batch.id,
    name: batch.name,
    total: batch.total,
    pending: batch.total,
    failed: 0,
    failed_job_ids: '[]',
    options: JSON.stringify(batch.options),
    cancelled_at: null,
    created_at: batch.now,
    finished_at: null,
  });
}

/**
 * Raises a batch's total and pending by `count` (ctx.batch.add), before the new jobs are pushed:
 * the job calling it is still pending, so the batch cannot finish in between. Returns false when
 * the batch is gone or already finished (nothing changed).
 */
export async function growBatch(db: Knex, id: string, count: number): Promise<boolean> {
  const changed = await db(BATCHES)
    .where({ id })
    .whereNull('finished_at')
    .update({ total: db.raw('total + ?', [count]), pending: db.raw('pending + ?', [count]) });
  return changed > 0;
}

export function isSqlite(db: Knex): boolean {
  return db.client.config.client === 'better-sqlite3';
}

/**
 * Claims the run of a batch's callback for the job `jobId`: true when no other job has run this
 * callback (the first claim, or this same job run again), false when another copy did. Keeps
 * `then`/`catch`/`finally` to one run even if a crash made the callback be pushed twice.
 */
export async function claimCallback(
  db: Knex,
  batchId: string,
  kind: BatchCallbackKind,
  jobId: string,
): Promise<boolean> {
  // One conditional update, so that two copies cannot both find the kind free (and SQLite never
  // has to upgrade a read lock to a write lock, which it refuses at once under contention).
  await db(BATCHES)
    .where({ id: batchId })
    .whereRaw(isPg(db) ? `(options::jsonb #>> ?) is null` : `json_extract(options, ?) is null`, [
      isPg(db) ? `{ran,${kind}}` : `$.ran.${kind}`,
    ])
    .update({
      options: isPg(db)
        ? db.raw(
            `jsonb_set(jsonb_set(options::jsonb, '{ran}', coalesce(options::jsonb->'ran', '{}'::jsonb)), ?, to_jsonb(?::text))::text`,
            [`{ran,${kind}}`, jobId],
          )
        : db.raw(
            `json_set(options, '$.ran', json(coalesce(json_extract(options, '$.ran'), '{}')), ?, ?)`,
            [`$.ran.${kind}`, jobId],
          ),
    });
  const batch = await findBatch(db, batchId);
  return batch?.options.ran[kind] === jobId;
}

function isPg(db: Knex): boolean {
  return db.client.config.client === 'pg';
}

/** The final outcomes recorded for a batch's jobs, oldest first, `limit` at a time after `afterJobId`. */
export async function listBatchOutcomes(
  db: Knex,
  batchId: string,
  { outcome, limit = 500 }: { outcome?: BatchOutcome; limit?: number } = {},
): Promise<Array<{ jobId: string; outcome: BatchOutcome; settledAt: number }>> {
  const q = db(OUTCOMES).where({ batch_id: batchId }).orderBy('settled_at').limit(limit);
  if (outcome) q.where({ outcome });
  const rows = await q;
  return rows.map((r: Record<string, unknown>) => ({
    jobId: String(r.job_id),
    outcome: r.outcome as BatchOutcome,
    settledAt: Number(r.settled_at),
  }));
}

/**
 * Re-opens failed jobs of a batch for a retry (`run queue:retry-batch`): forgets their `failed`
 * outcomes and counts them pending again (failed and failed_job_ids lose them, finished_at is
 * cleared), in one transaction. Returns the ids it re-opened (those recorded as failed; others
 * are ignored). The caller then pushes one new job for each, carrying the batch header
 * (`{ 'jobsmith-batch': batchId }`, headers.ts): the new jobs' outcomes count as the failed ones
 * did. Re-open first, push second, as ctx.batch.add does: a crash in between leaves the batch
 * unfinished, never finished early. Callbacks that already ran (catch, finally) do not run again;
 * `then` runs if the retried jobs all succeed and no job was cancelled. A cancelled batch stays
 * cancelled unless `uncancel`: its retried jobs would end cancelled unrun.
 */
export async function reopenFailedJobs(
  db: Knex,
  batchId: string,
  jobIds: readonly string[],
  { uncancel = false }: { uncancel?: boolean } = {},
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  return db.transaction(async (trx) => {
    const q = trx(BATCHES).where({ id: batchId });
    if (isPg(trx)) q.forUpdate();
    const row = await q.first();
    if (!row) return [];
    const failed = await trx(OUTCOMES)
      .where({ batch_id: batchId, outcome: 'failed' })
      .whereIn('job_id', [...jobIds])
      .pluck('job_id');
    const reopened = (failed as unknown[]).map(String);
    if (reopened.length === 0) return [];
    await trx(OUTCOMES).where({ batch_id: batchId }).whereIn('job_id', reopened).delete();
    const gone = new Set(reopened);
    const kept = toBatch(row).failedJobIds.filter((id) => !gone.has(id));
    await trx(BATCHES)
      .where({ id: batchId })
      .update({
        pending: trx.raw('pending + ?', [reopened.length]),
        failed: trx.raw('failed - ?', [reopened.length]),
        failed_job_ids: JSON.stringify(kept),
        finished_at: null,
        ...(uncancel ? { cancelled_at: null } : {}),
      });
    return reopened;
  });
}
