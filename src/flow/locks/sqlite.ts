import type BetterSqlite3 from 'better-sqlite3';
import { storableKey } from '../../util/stored-text.js';
import { wholeMs } from '../../util/whole.js';
import type { LockAcquired, LockInfo, LockStore } from './store.js';

/*
 * Locks in the `job_locks` table (migration 0008) of a SQLite file, through the queue driver's
 * own better-sqlite3 connection: one synchronous statement per call, so no transaction ever
 * stays open across an await. The clock is the host's, read by SQLite as the driver reads it
 * (unixepoch('subsec')); SQLite returns the same 'now' for every use within one statement, so
 * the decision and the wait it reports agree.
 */
const NOW = `cast(unixepoch('subsec') * 1000 as integer)`;

/** Whether the row in place may be taken: its lease ran out, or the caller holds it already. */
const TAKEABLE = `(job_locks.expires_at <= ${NOW} or job_locks.token = excluded.token)`;

const SQL = {
  // Writes the row even when it is refused (setting it to itself), so that one statement both
  // decides and reports the holder's remaining lease.
  acquire: `
    insert into job_locks (key, token, expires_at) values (@key, @token, ${NOW} + @ttl)
    on conflict (key) do update
       set token = case when ${TAKEABLE} then excluded.token else job_locks.token end,
           expires_at = case when ${TAKEABLE} then excluded.expires_at else job_locks.expires_at end
    returning token, expires_at - ${NOW} as expires_in`,
  renew: `
    update job_locks set expires_at = ${NOW} + @ttl
     where key = @key and token = @token and expires_at > ${NOW}`,
  // Deletes our row even when its lease ran out (nobody else holds it then); reports whether
  // it was still held.
  release: `
    delete from job_locks where key = @key and token = @token
    returning expires_at > ${NOW} as live`,
  list: `
    select key, token, expires_at - ${NOW} as expires_in from job_locks
     where expires_at > ${NOW} order by key`,
} as const;

type Name = keyof typeof SQL;

/** Leased locks on SQLite. Statements are prepared on first use: a file never locked pays nothing. */
export class SqliteLockStore implements LockStore {
  private readonly statements = new Map<Name, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  private stmt(name: Name): BetterSqlite3.Statement {
    let stmt = this.statements.get(name);
    if (!stmt) {
      stmt = this.db.prepare(SQL[name]);
      this.statements.set(name, stmt);
    }
    return stmt;
  }

  async acquire(key: string, token: string, ttlMs: number): Promise<LockAcquired> {
    const row = this.stmt('acquire').get({ key: storableKey(key), token, ttl: wholeMs(ttlMs) }) as {
      token: string;
      expires_in: number;
    };
    if (row.token === token) return { acquired: true };
    return { acquired: false, expiresInMs: Math.max(1, Number(row.expires_in)) };
  }

  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    const { changes } = this.stmt('renew').run({
      key: storableKey(key),
      token,
      ttl: wholeMs(ttlMs),
    });
    return changes === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    const row = this.stmt('release').get({ key: storableKey(key), token }) as
      { live: number } | undefined;
    return row?.live === 1;
  }

  async list(): Promise<LockInfo[]> {
    const rows = this.stmt('list').all() as Array<{
      key: string;
      token: string;
      expires_in: number;
    }>;
    return rows.map((r) => ({
      key: r.key,
      token: r.token,
      expiresInMs: Math.max(1, Number(r.expires_in)),
    }));
  }
}
