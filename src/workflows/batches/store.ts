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
import { outcomeGroup } from './outcome-group.js';

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

const BATCHES = 'job_batches';
const OUTCOMES = 'job_batch_jobs';

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

function toBatch(row: Record<string, unknown>): BatchRecord {
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

/** What recordOutcome did. */
export interface RecordedOutcome {
  /** False when this job's outcome was already recorded (a run again after a crash): nothing changed. */
  recorded: boolean;
  /** The batch after the change; undefined when there is no such batch (pruned). */
  batch: BatchRecord | undefined;
  /**
   * The callbacks this outcome makes due. For a first record, the ones its transition decides
   * (catch on the first failure, then/finally when pending reaches 0); for a repeated one, every
   * callback the batch's state makes due, so that a callback whose push a crash interrupted is
   * pushed again (its unique key and claimCallback keep it to one run).
   */
  due: BatchCallbackKind[];
}

/**
 * Records a batch job's final outcome and updates the counters: inserts the job's
 * job_batch_jobs row, and only if that insert added it, takes one from `pending` (and adds the
 * job to `failed` for a failure). The first failure cancels the batch unless it allows
 * failures; the outcome that takes pending to 0 sets finished_at. Idempotent per (batch, job).
 *
 * Outcomes recorded at once on one storage (a worker's jobs settling together) are written
 * together: one transaction on SQLite, one statement on PostgreSQL (outcome-group.ts). Every
 * job of a batch changes the same job_batches row, so one write per job made the batch's jobs
 * settle one at a time (bench/batch.mjs). Run it on the storage itself, not inside another
 * transaction on SQLite (one writer).
 */
export function recordOutcome(db: Knex, o: Recording): Promise<RecordedOutcome> {
  return outcomeGroup(db, recordOutcomes).add(o);
}

/** Records several outcomes at once (see recordOutcome); results in the order given. */
export async function recordOutcomes(db: Knex, list: Recording[]): Promise<RecordedOutcome[]> {
  if (isSqlite(db)) return (await recordOnSqlite(db, list)).map((r, i) => shaped(r, list[i]!));
  return recordOnPostgres(db, list);
}

/** What a record's rows mean for one job: recorded or not, the batch, and what became due. */
function shaped(r: RecordRows, o: Recording): RecordedOutcome {
  if (!r.inserted) {
    const batch = r.row ? toBatch(r.row) : undefined;
    return { recorded: false, batch, due: batch ? dueFromState(batch) : [] };
  }
  if (!r.row) return { recorded: true, batch: undefined, due: [] };
  const batch = toBatch(r.row);
  const due: BatchCallbackKind[] = [];
  if (o.outcome === 'failed' && batch.failed === 1) due.push('catch');
  if (batch.pending === 0) {
    if (batch.failed === 0 && r.succeeded === batch.total) due.push('then');
    due.push('finally');
  }
  return { recorded: true, batch, due: due.filter((k) => batch.options[k] !== null) };
}

/** One job's final outcome to record (`now`: epoch ms). */
export type Recording = { batchId: string; jobId: string; outcome: BatchOutcome; now: number };

/**
 * What a record's transaction found: whether it added the outcome, the batch row after it, and
 * for a batch it finished with no failure, how many of its jobs succeeded.
 */
interface RecordRows {
  inserted: boolean;
  row: Record<string, unknown> | undefined;
  succeeded?: number;
}

/**
 * PostgreSQL: the outcomes' insert and each batch's counters' update in ONE statement
 * (data-modifying CTEs), committed on its own, so the batch row's lock is held for one
 * statement, not across the round trips of a transaction. Under READ COMMITTED the update waits
 * for the row and applies to its latest version, so the counters stay exact with many workers.
 * A batch's callbacks made due by the group go with its first added outcome.
 */
async function recordOnPostgres(db: Knex, list: Recording[]): Promise<RecordedOutcome[]> {
  const now = Math.max(...list.map((o) => o.now));
  const values = list.map(() => '(?::text, ?::text, ?::text, ?::bigint, ?::int)').join(', ');
  const bindings = list.flatMap((o, i) => [o.batchId, o.jobId, o.outcome, o.now, i]);
  const { rows } = await db.raw<{ rows: Array<Record<string, unknown>> }>(
    `with v (batch_id, job_id, outcome, settled_at, ord) as (values ${values}),
     ins as (
       insert into ${OUTCOMES} (batch_id, job_id, outcome, settled_at)
       select batch_id, job_id, outcome, settled_at from v order by ord
       on conflict (batch_id, job_id) do nothing
       returning batch_id, job_id, outcome
     ), agg as (
       select batch_id, count(*)::int as n,
              (count(*) filter (where outcome = 'failed'))::int as f,
              coalesce(jsonb_agg(job_id) filter (where outcome = 'failed'), '[]'::jsonb) as fids,
              jsonb_agg(job_id) as added
         from ins group by batch_id
     )
     update ${BATCHES} b set
       pending = b.pending - agg.n,
       finished_at = case when b.pending = agg.n then ?::bigint else b.finished_at end,
       failed = b.failed + agg.f,
       failed_job_ids = case when agg.f > 0
         then (b.failed_job_ids::jsonb || agg.fids)::text else b.failed_job_ids end,
       cancelled_at = case when agg.f > 0 and b.failed = 0 and b.cancelled_at is null
           and not coalesce((b.options::jsonb->>'allowFailures')::boolean, false)
         then ?::bigint else b.cancelled_at end
       from agg where b.id = agg.batch_id
     returning b.*, agg.f as jobsmith_failed_added, agg.added as jobsmith_added`,
    [...bindings, now, now],
  );
  const updated = new Map<
    string,
    { row: Record<string, unknown>; f: number; added: Set<string> }
  >();
  for (const { jobsmith_failed_added: f, jobsmith_added: added, ...row } of rows) {
    updated.set(String(row.id), {
      row,
      f: Number(f),
      added: new Set((added as string[]).map(String)),
    });
  }
  // Batches whose outcomes were all recorded before (a job run again after a crash): as they are.
  const others = [...new Set(list.map((o) => o.batchId))].filter((id) => !updated.has(id));
  const current = new Map<string, Record<string, unknown>>();
  if (others.length > 0) {
    for (const row of await db(BATCHES).whereIn('id', others)) current.set(String(row.id), row);
  }
  const credited = new Set<string>();
  const results: RecordedOutcome[] = [];
  for (const o of list) {
    const u = updated.get(o.batchId);
    if (!u || !u.added.has(o.jobId)) {
      const row = u?.row ?? current.get(o.batchId);
      const batch = row ? toBatch(row) : undefined;
      results.push({ recorded: false, batch, due: batch ? dueFromState(batch) : [] });
      continue;
    }
    // The same job twice in one group: its first entry added the row, the others did not.
    u.added.delete(o.jobId);
    const batch = toBatch(u.row);
    const due: BatchCallbackKind[] = [];
    if (!credited.has(o.batchId)) {
      credited.add(o.batchId);
      // The group's first failures were the batch's first: catch is due.
      if (u.f > 0 && batch.failed === u.f) due.push('catch');
      if (batch.pending === 0) {
        if (batch.failed === 0 && (await succeededCount(db, o.batchId)) === batch.total)
          due.push('then');
        due.push('finally');
      }
    }
    results.push({ recorded: true, batch, due: due.filter((k) => batch.options[k] !== null) });
  }
  return results;
}

/** How many of a batch's jobs succeeded: read once per batch, after its last outcome. */
async function succeededCount(db: Knex, batchId: string): Promise<number> {
  const [count] = await db(OUTCOMES)
    .where({ batch_id: batchId, outcome: 'succeeded' })
    .count({ n: '*' });
  return Number(count?.n ?? 0);
}

type SqliteConnection = import('better-sqlite3').Database;

/**
 * The same transaction on SQLite, run synchronously on knex's connection (BEGIN IMMEDIATE): a
 * knex transaction would yield between its statements while holding the write lock, and the
 * worker's queue connection (SqliteQueue, same file, same thread) would then wait on it with
 * the whole process blocked.
 */
async function recordOnSqlite(db: Knex, list: Recording[]): Promise<RecordRows[]> {
  const client = db.client as Knex.Client;
  const conn = (await client.acquireConnection()) as SqliteConnection;
  try {
    const recordOne = (o: Recording): RecordRows => {
      const added = conn
        .prepare(
          `insert into ${OUTCOMES} (batch_id, job_id, outcome, settled_at) values (?, ?, ?, ?) on conflict do nothing`,
        )
        .run(o.batchId, o.jobId, o.outcome, o.now);
      if (added.changes === 0) {
        const row = conn.prepare(`select * from ${BATCHES} where id = ?`).get(o.batchId);
        return { inserted: false, row: row as Record<string, unknown> | undefined };
      }
      const failed = o.outcome === 'failed' ? 1 : 0;
      const row = conn
        .prepare(
          `update ${BATCHES} set pending = pending - 1,
             finished_at = case when pending = 1 then @now else finished_at end,
             failed = failed + @failed,
             failed_job_ids = case when @failed = 1 then json_insert(failed_job_ids, '$[#]', @jobId) else failed_job_ids end,
             cancelled_at = case when @failed = 1 and failed = 0 and cancelled_at is null
               and coalesce(json_extract(options, '$.allowFailures'), 0) = 0 then @now else cancelled_at end
           where id = @id returning *`,
        )
        .get({ now: o.now, failed, jobId: o.jobId, id: o.batchId }) as
        Record<string, unknown> | undefined;
      if (!row || Number(row.pending) !== 0 || Number(row.failed) !== 0)
        return { inserted: true, row };
      const count = conn
        .prepare(
          `select count(*) as n from ${OUTCOMES} where batch_id = ? and outcome = 'succeeded'`,
        )
        .get(o.batchId) as { n: number };
      return { inserted: true, row, succeeded: Number(count.n) };
    };
    return conn.transaction(() => list.map(recordOne)).immediate();
  } finally {
    await client.releaseConnection(conn);
  }
}

function isSqlite(db: Knex): boolean {
  return db.client.config.client === 'better-sqlite3';
}

/**
 * The callbacks a batch's state makes due, for an outcome recorded again: catch once a job
 * failed; finally and (when nothing failed) then once finished. `then` is not re-checked
 * against cancelled jobs here: a batch with a cancelled job that finished has its cancelled_at
 * set in every case but an individually cancelled job; claimCallback keeps a re-push to one run.
 */
function dueFromState(batch: BatchRecord): BatchCallbackKind[] {
  const due: BatchCallbackKind[] = [];
  if (batch.failed > 0) due.push('catch');
  if (batch.finishedAt !== null) {
    if (batch.failed === 0 && batch.cancelledAt === null) due.push('then');
    due.push('finally');
  }
  return due.filter((k) => batch.options[k] !== null);
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
