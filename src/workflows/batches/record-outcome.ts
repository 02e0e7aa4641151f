/*
 * Recording a batch job's final outcome (job_batch_jobs, migrations/0024_job_batches.ts) and
 * the counters of its batch: the SQL of recordOutcome, in groups (outcome-group.ts), on SQLite
 * and PostgreSQL. The words are store.ts's.
 */
import type { Knex } from 'knex';
import { immediateTransaction } from '../../db/sqlite-transaction.js';
import { outcomeGroup } from './outcome-group.js';
import {
  BATCHES,
  OUTCOMES,
  isSqlite,
  toBatch,
  type BatchCallbackKind,
  type BatchOutcome,
  type BatchRecord,
} from './store.js';

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
  if (!isSqlite(db)) return recordOnPostgres(db, list);
  // Jobs settled by one update share its row: read into a BatchRecord once.
  const batches = new Map<Record<string, unknown>, BatchRecord>();
  const read = (row: Record<string, unknown>) => {
    let batch = batches.get(row);
    if (!batch) batches.set(row, (batch = toBatch(row)));
    return batch;
  };
  return (await recordOnSqlite(db, list)).map((r, i) => shaped(r, list[i]!, read));
}

/** What a record's rows mean for one job: recorded or not, the batch, and what became due. */
function shaped(
  r: RecordRows,
  o: Recording,
  read: (row: Record<string, unknown>) => BatchRecord,
): RecordedOutcome {
  if (!r.inserted) {
    const batch = r.row ? read(r.row) : undefined;
    return { recorded: false, batch, due: batch ? dueFromState(batch) : [] };
  }
  if (!r.row) return { recorded: true, batch: undefined, due: [] };
  const batch = read(r.row);
  if (r.credited === false) return { recorded: true, batch, due: [] };
  const due: BatchCallbackKind[] = [];
  if (o.outcome === 'failed' && batch.failed === 1) due.push('catch');
  if (batch.pending === 0) {
    if (batch.failed === 0 && r.succeeded === batch.total) due.push('then');
    due.push('finally');
  }
  return { recorded: true, batch, due: due.filter((k) => batch.options[k] !== null) };
}

/** One job's final outcome to record (`now`: epoch ms). */
export type Recording = {
  batchId: string;
  jobId: string;
  outcome: BatchOutcome;
  now: number;
  /**
   * The job's own settle is written after this record to the same storage (the `database`
   * queue on this database). Then, on PostgreSQL, a group whose outcomes all have it commits
   * without waiting for the disk: WAL is written in order, so a server crash that loses this
   * commit loses the job's settle after it too, and the job runs and records again. With the
   * job's settle elsewhere (Redis), a lost record would never be made again.
   */
  sameStorage?: boolean;
};

/**
 * What a record's transaction found: whether it added the outcome, the batch row after it, and
 * for a batch it finished with no failure, how many of its jobs succeeded.
 */
interface RecordRows {
  inserted: boolean;
  row: Record<string, unknown> | undefined;
  succeeded?: number;
  /**
   * False for every job but the first of those one update settled together (SQLite): the
   * update's transition (to finished) is credited once, to the first.
   */
  credited?: boolean;
}

/** job_batches' columns, named: a prepared statement's result must not change with the table. */
const BATCH_COLUMNS = [
  'id',
  'name',
  'total',
  'pending',
  'failed',
  'failed_job_ids',
  'options',
  'cancelled_at',
  'created_at',
  'finished_at',
]
  .map((c) => `b.${c}`)
  .join(', ');

/**
 * recordOnPostgres's statement: $1 to $4 the outcomes' batch ids, job ids, outcomes and times
 * (arrays: one text for every group size), $5 the group's time, $6 `synchronous_commit` for
 * its commit ('on' or 'off', set for this statement's transaction only). Prepared once per
 * connection (named): parsing and planning it took as long as running it, 0.4 of 0.9 ms, and
 * waiting for the disk most of the rest (a group of 10 outcomes, measured on a local server).
 */
const PG_RECORD = `
  with v (batch_id, job_id, outcome, settled_at, ord) as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) with ordinality
  ), ins as (
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
  ), commit_wait as (select set_config('synchronous_commit', $6::text, true))
  update ${BATCHES} b set
    pending = b.pending - agg.n,
    finished_at = case when b.pending = agg.n then $5::bigint else b.finished_at end,
    failed = b.failed + agg.f,
    failed_job_ids = case when agg.f > 0
      then (b.failed_job_ids::jsonb || agg.fids)::text else b.failed_job_ids end,
    cancelled_at = case when agg.f > 0 and b.failed = 0 and b.cancelled_at is null
        and not coalesce((b.options::jsonb->>'allowFailures')::boolean, false)
      then $5::bigint else b.cancelled_at end
    from agg, commit_wait where b.id = agg.batch_id
  returning ${BATCH_COLUMNS}, agg.f as jobsmith_failed_added, agg.added as jobsmith_added`;

/**
 * PostgreSQL: the outcomes' insert and each batch's counters' update in ONE statement
 * (data-modifying CTEs), committed on its own, so the batch row's lock is held for one
 * statement, not across the round trips of a transaction. Under READ COMMITTED the update waits
 * for the row and applies to its latest version, so the counters stay exact with many workers.
 * A batch's callbacks made due by the group go with its first added outcome.
 */
async function recordOnPostgres(db: Knex, list: Recording[]): Promise<RecordedOutcome[]> {
  const now = Math.max(...list.map((o) => o.now));
  const wait = list.every((o) => o.sameStorage === true) ? 'off' : 'on';
  const values = [
    list.map((o) => o.batchId),
    list.map((o) => o.jobId),
    list.map((o) => o.outcome),
    list.map((o) => o.now),
    now,
    wait,
  ];
  const client = db.client as Knex.Client;
  const conn = (await client.acquireConnection()) as import('pg').PoolClient;
  let rows: Array<Record<string, unknown>>;
  try {
    ({ rows } = await conn.query({ name: 'jobsmith_batch_outcomes', text: PG_RECORD, values }));
  } finally {
    await client.releaseConnection(conn);
  }
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
 * recordOnSqlite's statements and transaction on one connection, made on its first group: a
 * statement prepared per outcome (two a job) and a transaction wrapper made per group cost more
 * than the writes themselves (src/db/sqlite-transaction.ts).
 */
const sqliteRecorders = new WeakMap<SqliteConnection, (list: Recording[]) => RecordRows[]>();

function sqliteRecorder(conn: SqliteConnection): (list: Recording[]) => RecordRows[] {
  const known = sqliteRecorders.get(conn);
  if (known) return known;
  const insert = conn.prepare(
    `insert into ${OUTCOMES} (batch_id, job_id, outcome, settled_at) values (?, ?, ?, ?) on conflict do nothing`,
  );
  const select = conn.prepare(`select * from ${BATCHES} where id = ?`);
  // A failure, alone: its job id goes on the list, and the batch's first one may cancel it.
  const updateFailed = conn.prepare(
    `update ${BATCHES} set pending = pending - 1,
       finished_at = case when pending = 1 then @now else finished_at end,
       failed = failed + 1,
       failed_job_ids = json_insert(failed_job_ids, '$[#]', @jobId),
       cancelled_at = case when failed = 0 and cancelled_at is null
         and coalesce(json_extract(options, '$.allowFailures'), 0) = 0 then @now else cancelled_at end
     where id = @id returning *`,
  );
  // Successes and cancellations of one batch in a group: one update for all of them. Every
  // update rewrites the batch's row (its options hold the callbacks' payloads), and one per job
  // was the most of what a batch cost a job (bench/batch.mjs).
  const updateSettled = conn.prepare(
    `update ${BATCHES} set pending = pending - @n,
       finished_at = case when pending = @n then @now else finished_at end
     where id = @id returning *`,
  );
  const succeeded = conn.prepare(
    `select count(*) as n from ${OUTCOMES} where batch_id = ? and outcome = 'succeeded'`,
  );
  /** The rows of an update: with the succeeded count when it finished the batch unfailed. */
  const after = (batchId: string, row: unknown, credited?: boolean): RecordRows => {
    const r = row as Record<string, unknown> | undefined;
    if (credited === false || !r || Number(r.pending) !== 0 || Number(r.failed) !== 0)
      return { inserted: true, row: r, credited };
    const count = succeeded.get(batchId) as { n: number };
    return { inserted: true, row: r, succeeded: Number(count.n), credited };
  };
  const recordGroup = (list: Recording[]): RecordRows[] => {
    const rows = new Array<RecordRows>(list.length);
    // Per batch, the positions of its successes and cancellations added by this group.
    const settled = new Map<string, number[]>();
    let now = 0;
    list.forEach((o, i) => {
      now = Math.max(now, o.now);
      if (insert.run(o.batchId, o.jobId, o.outcome, o.now).changes === 0) {
        const row = select.get(o.batchId) as Record<string, unknown> | undefined;
        rows[i] = { inserted: false, row };
      } else if (o.outcome === 'failed') {
        rows[i] = after(o.batchId, updateFailed.get({ now: o.now, jobId: o.jobId, id: o.batchId }));
      } else {
        const at = settled.get(o.batchId);
        if (at) at.push(i);
        else settled.set(o.batchId, [i]);
      }
    });
    for (const [batchId, at] of settled) {
      const row = updateSettled.get({ n: at.length, now, id: batchId });
      at.forEach((i, k) => (rows[i] = after(batchId, row, k === 0)));
    }
    return rows;
  };
  const record = immediateTransaction(conn, recordGroup);
  sqliteRecorders.set(conn, record);
  return record;
}

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
    return sqliteRecorder(conn)(list);
  } finally {
    await client.releaseConnection(conn);
  }
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
