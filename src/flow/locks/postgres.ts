import type { Knex } from 'knex';
import { storableKey } from '../../util/stored-text.js';
import { wholeMs } from '../../util/whole.js';
import type { LockAcquired, LockInfo, LockStore } from './store.js';

/*
 * Locks in the `job_locks` table (migration 0008) of PostgreSQL: one statement per call, on the
 * server's clock. statement_timestamp(), not clock_timestamp(): each statement reads the clock
 * several times (to decide, then to report the remaining lease), and statement_timestamp() gives
 * them all the same moment; a statement here is its own transaction, so it is never stale.
 */
const NOW = `(extract(epoch from statement_timestamp()) * 1000)::bigint`;

/** Whether the row in place may be taken: its lease ran out, or the caller holds it already. */
const TAKEABLE = `(job_locks.expires_at <= ${NOW} or job_locks.token = excluded.token)`;

/**
 * Takes the lock or reports its holder's remaining lease, in one statement. A refused acquire
 * still updates the row (to itself): ON CONFLICT DO UPDATE is what locks the conflicting row
 * and hands it to RETURNING, so the answer holds even against a concurrent insert, where a
 * DO NOTHING followed by a read could find no row at all.
 */
const ACQUIRE = `
  insert into job_locks (key, token, expires_at) values (?, ?, ${NOW} + ?)
  on conflict (key) do update
     set token = case when ${TAKEABLE} then excluded.token else job_locks.token end,
         expires_at = case when ${TAKEABLE} then excluded.expires_at else job_locks.expires_at end
  returning token, expires_at - ${NOW} as expires_in`;

const RENEW = `
  update job_locks set expires_at = ${NOW} + ?
   where key = ? and token = ? and expires_at > ${NOW}`;

// Deletes our row even when its lease ran out (nobody else holds it then); reports whether it
// was still held.
const RELEASE = `
  delete from job_locks where key = ? and token = ?
  returning expires_at > ${NOW} as live`;

const LIST = `
  select key, token, expires_at - ${NOW} as expires_in from job_locks
   where expires_at > ${NOW} order by key`;

/** Leased locks on PostgreSQL. */
export class PostgresLockStore implements LockStore {
  constructor(private readonly knex: Knex) {}

  async acquire(key: string, token: string, ttlMs: number): Promise<LockAcquired> {
    const { rows } = await this.knex.raw<{ rows: Array<{ token: string; expires_in: string }> }>(
      ACQUIRE,
      [storableKey(key), token, wholeMs(ttlMs)],
    );
    const row = rows[0]!;
    if (row.token === token) return { acquired: true };
    return { acquired: false, expiresInMs: Math.max(1, Number(row.expires_in)) };
  }

  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.knex.raw<{ rowCount: number }>(RENEW, [
      wholeMs(ttlMs),
      storableKey(key),
      token,
    ]);
    return rowCount === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: Array<{ live: boolean }> }>(RELEASE, [
      storableKey(key),
      token,
    ]);
    return rows[0]?.live === true;
  }

  async list(): Promise<LockInfo[]> {
    const { rows } = await this.knex.raw<{
      rows: Array<{ key: string; token: string; expires_in: string }>;
    }>(LIST);
    return rows.map((r) => ({
      key: r.key,
      token: r.token,
      expiresInMs: Math.max(1, Number(r.expires_in)),
    }));
  }
}
