import type BetterSqlite3 from 'better-sqlite3';
import type { JobRow, Lease } from '../driver.js';
import { toRow } from '../database/rows.js';
import { READY_AT_BEHIND } from '../database/reclaim.js';
import { sqlIds } from './ids.js';

/*
 * Live-job operations on SQLite (find, promote, remove, progress), for the SqliteQueue's
 * one-line delegations. Statements are prepared on first use, once per connection: a worker
 * that never calls them prepares nothing. Times are SQLite's clock, as in sqlite-sql.ts.
 */

const NOW = `cast(unixepoch('subsec') * 1000 as integer)`;

export interface SqliteAdmin {
  find(id: string): JobRow | null;
  promote(ids: string[]): string[];
  remove(ids: string[]): string[];
  progress(lease: Lease, value: string): boolean;
}

const made = new WeakMap<BetterSqlite3.Database, SqliteAdmin>();

export function sqliteAdmin(db: BetterSqlite3.Database): SqliteAdmin {
  let admin = made.get(db);
  if (!admin) made.set(db, (admin = prepare(db)));
  return admin;
}

function prepare(db: BetterSqlite3.Database): SqliteAdmin {
  const find = db.prepare(`select *, ${NOW} as now from jobs where id = ?`);
  // Delayed: waiting for its time, no worker's (a lapsed lease is pending already). It joins
  // the ready line now, behind the jobs that joined before it (READY_AT_BEHIND).
  const promote = db.prepare(`
    update jobs set available_at = clock.now, ready_at = ${READY_AT_BEHIND('clock.now')}
      from (select ${NOW} as now) as clock
     where jobs.id = ? and jobs.reserved_at is null and jobs.available_at > clock.now
    returning jobs.id`);
  // Waiting (pending or delayed), or held by a lease that ran out: never a live lease's job.
  const remove = db.prepare(`
    delete from jobs where id = ? and (reserved_at is null or available_at <= ${NOW})
    returning unique_key`);
  const dropUnique = db.prepare('delete from job_uniques where job_id = ?');
  const progress = db.prepare('update jobs set progress = ? where id = ? and token = ?');
  return {
    find(id) {
      const [key] = sqlIds([id]);
      if (key === undefined) return null;
      const row = find.get(key) as Record<string, unknown> | undefined;
      return row ? toRow(row, Number(row.now)) : null;
    },
    promote(ids) {
      const keys = sqlIds(ids);
      return db.transaction(() => keys.filter((id) => promote.all(id).length > 0)).immediate();
    },
    remove(ids) {
      const keys = sqlIds(ids);
      return db
        .transaction(() =>
          keys.filter((id) => {
            const row = remove.get(id) as { unique_key: string | null } | undefined;
            if (!row) return false;
            if (row.unique_key !== null) dropUnique.run(id);
            return true;
          }),
        )
        .immediate();
    },
    progress(lease, value) {
      return progress.run(value, lease.id, lease.token).changes === 1;
    },
  };
}
