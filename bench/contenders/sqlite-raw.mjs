// The SQLite ceiling: a bare better-sqlite3 loop running jobsmith's own prepared statements
// (dist/src/queue/database/sqlite-sql.js) on jobsmith's schema, with the same pragmas (WAL,
// synchronous NORMAL), no worker, no events, no async hand-offs. Two variants:
//   single  claim 1 job, run it, complete it: two transactions a job
//   batch   claim 100 jobs in one transaction, run them, complete them in one transaction
// It uses jobsmith's copy of better-sqlite3, so both sides run the same SQLite build.
import { randomUUID } from 'node:crypto';
import { jobsmith, requireFromRoot, sleep } from '../lib.mjs';
import * as js from './jobsmith.mjs';

const Sqlite = requireFromRoot('better-sqlite3');
export const peer = {
  name: 'better-sqlite3 (raw loop)',
  version: requireFromRoot('better-sqlite3/package.json').version,
};

const BATCH = 100;

export const prepare = js.prepare;
export const destroy = js.destroy;

export async function open(ctx, variant) {
  const { prepareStatements } = await jobsmith('queue/database/sqlite-sql.js');
  const db = new Sqlite(ctx.file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  const sql = prepareStatements(db);
  const now = () => sql.now.pluck().get();
  const row = (i, at) => ({
    queue: 'default',
    name: 'noop',
    payload: JSON.stringify({ i }),
    priority: 0,
    max_tries: 3,
    available_at: at,
    unique_key: null,
    created_at: at,
  });
  const insertMany = db.transaction((from, count) => {
    const at = now();
    for (let k = 0; k < count; k++) sql.insertJob.run(row(from + k, at));
  });
  const claim = db.transaction((limit, token) => {
    const t = now();
    return sql.claim.all({
      queue: 'default',
      now: t,
      limit,
      lease_until: t + 60_000,
      token,
    });
  });
  const complete = db.transaction((rows, token) => {
    for (const r of rows)
      if (sql.deleteJob.run(r.id, token).changes === 1) sql.dropUniqueOf.run(r.id);
  });
  const limit = variant === 'batch' ? BATCH : 1;

  return {
    async reset() {
      db.exec('delete from jobs; delete from job_uniques; delete from failed_jobs');
      db.pragma('wal_checkpoint(truncate)');
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) insertMany.immediate(i, Math.min(1000, n - i));
    },
    add: async (i) => sql.insertJob.run(row(i, now())),
    addBulk: async (from, count) => insertMany.immediate(from, count),
    remaining: async () => db.prepare('select count(*) from jobs').pluck().get(),
    async work({ onStart }) {
      let stopped = false;
      const loop = (async () => {
        let n = 0;
        while (!stopped) {
          const token = randomUUID();
          const rows = claim.immediate(limit, token);
          if (rows.length === 0) {
            await sleep(1);
            continue;
          }
          for (const r of rows) {
            JSON.parse(r.payload);
            onStart();
          }
          complete.immediate(rows, token);
          // Let timers and IPC run now and then; the loop is otherwise synchronous.
          if ((n += rows.length) >= 256) {
            n = 0;
            await new Promise((r) => setImmediate(r));
          }
        }
      })();
      return {
        async stop() {
          stopped = true;
          await loop;
        },
      };
    },
    async close() {
      db.close();
    },
  };
}

export function settings(_ctx, variant) {
  return variant === 'batch'
    ? { loop: `claim ${BATCH} a transaction, complete them in one transaction` }
    : { loop: 'claim 1, complete 1: two transactions a job' };
}
