import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import { storedTags } from '../jobs/tags.js';
import { storedHeaders } from '../queue/headers.js';
import { CHANNEL, NOW as PG_NOW } from '../queue/database/postgres-sql.js';
import type { NewJob } from '../queue/driver.js';
import type { FailedJob } from './store.js';

/*
 * queue:retry on the `database` connection: failed rows move back into `jobs` in one
 * transaction per page, each unique job holding its key again (src/failed/retry.ts).
 */

/** The SQLite database clock in epoch ms, as the SQLite queue reads it (sqlite-sql.ts). */
const SQLITE_NOW = `cast(unixepoch('subsec') * 1000 as integer)`;

export interface Item {
  failed: FailedJob;
  job: NewJob;
}

/** What became of one failed row: moved (the new job's id), kept (the key's holder), or gone. */
export type Moved =
  | { item: Item; jobId: string }
  | { item: Item; heldBy: string; key: string }
  | { item: Item; gone: true };

/** Thrown inside a savepoint to undo a unique job's move when its key is held. */
class KeyHeld extends Error {
  constructor(readonly holder: string) {
    super('unique key held');
  }
}

/**
 * Moves failed rows of the `database` connection back into `jobs`, in one transaction. A unique
 * job takes its key as a dispatch would (an expired holder gives way); when another live job
 * holds it, the job's move is undone (a savepoint) and its failed row stays. A job keeps the
 * headers its NewJob carries. `within`, when given, runs last in the same transaction with what
 * was moved (queue:retry-batch counts the jobs back into their batch there).
 */
export async function moveToJobsTable(
  db: Database,
  items: Item[],
  within?: (trx: Knex.Transaction, moved: Moved[]) => Promise<void>,
): Promise<Moved[]> {
  if (items.length === 0) return [];
  const now = db.dialect === 'pgsql' ? PG_NOW : SQLITE_NOW;
  return db.knex.transaction(async (trx) => {
    const moved: Moved[] = [];
    for (const item of items) {
      if (!item.job.unique) {
        const jobId = await move(trx, item, now);
        moved.push(jobId === undefined ? { item, gone: true } : { item, jobId });
        continue;
      }
      const { key } = item.job.unique;
      try {
        const jobId = await trx.transaction((sp) => moveHoldingKey(sp, item, now));
        moved.push(jobId === undefined ? { item, gone: true } : { item, jobId });
      } catch (error) {
        if (!(error instanceof KeyHeld)) throw error;
        moved.push({ item, heldBy: error.holder, key });
      }
    }
    const done = moved.filter((m): m is { item: Item; jobId: string } => 'jobId' in m);
    if (db.dialect === 'pgsql' && done.length > 0) {
      // One NOTIFY per transaction wakes idle workers on these queues (see postgres-queue.ts).
      const queues = [...new Set(done.map((d) => d.item.job.queue))];
      await trx.raw(`select pg_notify('${CHANNEL}', ?)`, [queues.join(',')]);
    }
    await within?.(trx, moved);
    return moved;
  });
}

/** Deletes the failed row and inserts its job; undefined if the row was gone (retried by another). */
async function move(trx: Knex.Transaction, item: Item, now: string): Promise<string | undefined> {
  // Delete first: the row is ours only if we removed it (a concurrent retry skips it), and
  // on SQLite a transaction that starts with a write takes the write lock at once.
  const deleted = await trx('failed_jobs').where('id', item.failed.id).delete();
  if (deleted !== 1) return undefined;
  const { job } = item;
  const [inserted] = await trx('jobs')
    .insert({
      queue: job.queue,
      name: job.name,
      payload: job.payload,
      priority: job.priority,
      attempts: 0,
      max_tries: job.maxTries,
      available_at: trx.raw(now),
      // It joins the ready line now, as a push would: behind the jobs already waiting, and
      // within the ready_at stretch listPage reads for its state (job-page-walk.ts).
      ready_at: trx.raw(`${now} * 1000`),
      unique_key: job.unique?.key ?? null,
      unique_for_ms: job.unique?.forMs ?? null,
      tags: storedTags(job.tags),
      headers: storedHeaders(job.headers),
      created_at: trx.raw(now),
    })
    .returning('id');
  return String((inserted as { id: unknown }).id);
}

/**
 * `move`, then claims the job's key for the job's window from now. Concurrent dispatches of the
 * key serialise on job_uniques' primary key (as postgres-push.ts claimKeys); a key already held
 * throws KeyHeld, which rolls the savepoint back: the failed row is back, no job was added.
 */
async function moveHoldingKey(
  sp: Knex.Transaction,
  item: Item,
  now: string,
): Promise<string | undefined> {
  const jobId = await move(sp, item, now);
  if (jobId === undefined) return undefined;
  const { key, forMs } = item.job.unique!;
  // A holder seen in conflict may finish before we read who it is: then try again (bounded).
  for (let tries = 0; tries < 3; tries++) {
    await sp('job_uniques').where('key', key).where('expires_at', '<=', sp.raw(now)).delete();
    const won = rowsOf(
      await sp.raw(
        `insert into job_uniques (key, job_id, expires_at) values (?, ?, ${now} + ?)
         on conflict (key) do nothing returning key`,
        [key, jobId, forMs],
      ),
    );
    if (won.length === 1) return jobId;
    const holder = (await sp('job_uniques').where('key', key).first('job_id')) as
      { job_id: unknown } | undefined;
    if (holder) throw new KeyHeld(String(holder.job_id));
  }
  throw new Error(`Unique key "${key}" kept changing hands while the retry tried to take it.`);
}

/** Rows of a raw statement: PostgreSQL answers `{ rows }`, better-sqlite3 the rows. */
function rowsOf(result: unknown): unknown[] {
  return Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
}
