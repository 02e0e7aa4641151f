import type BetterSqlite3 from 'better-sqlite3';
import type { CancelRequest, CancelResult, JobRow } from '../queue/driver.js';
import { toRow } from '../queue/database/rows.js';
import { sqlJobIds } from './sql-ids.js';

/*
 * QueueDriver.cancel, cancelRequests and forgetCancels on SQLite, on the queue's own
 * better-sqlite3 connection (SqliteQueue delegates here). Cancelling runs in one
 * `BEGIN IMMEDIATE` transaction, so no claim falls between reading a job's state and acting on it.
 */

const statements = new WeakMap<BetterSqlite3.Database, ReturnType<typeof prepare>>();

function prepare(db: BetterSqlite3.Database) {
  return {
    now: db.prepare(`select cast(unixepoch('subsec') * 1000 as integer)`).pluck(),
    find: db.prepare('select * from jobs where id = ?'),
    // Waiting, or held by a lease that ran out: nobody may be running it to its end.
    deleteWaiting: db.prepare(
      'delete from jobs where id = ? and (reserved_at is null or available_at <= ?) returning id',
    ),
    dropUniqueOf: db.prepare('delete from job_uniques where job_id = ?'),
    request: db.prepare(`
      insert into job_cancels (job_id, reason, requested_at) values (?, ?, ?)
      on conflict (job_id) do update set reason = excluded.reason, requested_at = excluded.requested_at`),
    // Requests whose job ended some other way (it finished before its worker looked).
    sweep: db.prepare(
      'delete from job_cancels where not exists (select 1 from jobs where jobs.id = job_cancels.job_id)',
    ),
    requests: db.prepare(
      'select job_id, reason from job_cancels where job_id in (select value from json_each(?))',
    ),
    forget: db.prepare('delete from job_cancels where job_id in (select value from json_each(?))'),
  };
}

function sql(db: BetterSqlite3.Database) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

export function sqliteCancel(
  db: BetterSqlite3.Database,
  ids: string[],
  reason: string,
): CancelResult {
  const s = sql(db);
  return db
    .transaction((): CancelResult => {
      const now = s.now.get() as number;
      const removed: JobRow[] = [];
      const requested: string[] = [];
      for (const id of sqlJobIds(ids)) {
        const row = s.find.get(id) as Record<string, unknown> | undefined;
        if (!row) continue;
        if (s.deleteWaiting.get(id, now)) {
          if (row.unique_key != null) s.dropUniqueOf.run(id);
          removed.push(toRow(row, now));
        } else {
          s.request.run(id, reason, now);
          requested.push(id);
        }
      }
      s.sweep.run();
      return { removed, requested };
    })
    .immediate();
}

export function sqliteCancelRequests(db: BetterSqlite3.Database, ids: string[]): CancelRequest[] {
  const wanted = sqlJobIds(ids);
  if (wanted.length === 0) return [];
  const rows = sql(db).requests.all(JSON.stringify(wanted.map(Number))) as Array<{
    job_id: number | bigint;
    reason: string;
  }>;
  return rows.map((r) => ({ id: String(r.job_id), reason: r.reason }));
}

export function sqliteForgetCancels(db: BetterSqlite3.Database, ids: string[]): void {
  const wanted = sqlJobIds(ids);
  if (wanted.length > 0) sql(db).forget.run(JSON.stringify(wanted.map(Number)));
}
