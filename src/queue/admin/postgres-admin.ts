import type { Knex } from 'knex';
import type { JobRow } from '../driver.js';
import { toRow } from '../database/rows.js';
import { CHANNEL, NOW, SQL } from '../database/postgres-sql.js';
import { READY_AT_BEHIND } from '../database/reclaim.js';
import { sqlIds } from './ids.js';

/*
 * Live-job operations on PostgreSQL (find, promote, remove), for the PostgresQueue's one-line
 * delegations. Operators' commands, not the worker's hot path: they run on the durable knex
 * pool. Progress writes are the worker's and go on its settle pool (postgres-sql.ts).
 */

type Row = Record<string, unknown>;

async function rows(on: Knex | Knex.Transaction, sql: string, bindings: unknown[]): Promise<Row[]> {
  return ((await on.raw(sql, bindings as Knex.RawBinding[])) as { rows: Row[] }).rows;
}

const FIND = `select *, ${NOW} as now from jobs where id = ?::bigint`;

// Delayed: waiting for its time, no worker's (a lapsed lease is pending already). It joins the
// ready line now, behind the jobs that joined before it (READY_AT_BEHIND).
const PROMOTE = `
  update jobs set available_at = clock.now, ready_at = ${READY_AT_BEHIND('clock.now')}
    from (select ${NOW} as now) as clock
   where jobs.id = any(?::bigint[]) and jobs.reserved_at is null and jobs.available_at > clock.now
  returning jobs.id, jobs.queue`;

// Waiting (pending or delayed), or held by a lease that ran out: never a live lease's job.
const REMOVE = `
  delete from jobs where id = any(?::bigint[]) and (reserved_at is null or available_at <= ${NOW})
  returning id`;

export async function findJob(knex: Knex, id: string): Promise<JobRow | null> {
  const [key] = sqlIds([id]);
  if (key === undefined) return null;
  const [row] = await rows(knex, FIND, [key]);
  return row ? toRow(row, Number(row.now)) : null;
}

/** Promotes, and wakes idle workers of the queues (NOTIFY, sent at commit). */
export async function promoteJobs(knex: Knex, ids: string[]): Promise<string[]> {
  const keys = sqlIds(ids);
  if (keys.length === 0) return [];
  return knex.transaction(async (trx) => {
    const promoted = await rows(trx, PROMOTE, [keys]);
    if (promoted.length === 0) return [];
    const queues = [...new Set(promoted.map((r) => String(r.queue)))].join(',');
    await rows(trx, `select pg_notify('${CHANNEL}', ?)`, [queues]);
    const done = new Set(promoted.map((r) => String(r.id)));
    return keys.filter((id) => done.has(id));
  });
}

/** Deletes the waiting jobs among `ids` and frees their unique keys, in one transaction. */
export async function removeJobs(knex: Knex, ids: string[]): Promise<string[]> {
  const keys = sqlIds(ids);
  if (keys.length === 0) return [];
  return knex.transaction(async (trx) => {
    const removed = (await rows(trx, REMOVE, [keys])).map((r) => String(r.id));
    if (removed.length > 0) await rows(trx, SQL.dropUniquesOf, [removed]);
    const done = new Set(removed);
    return keys.filter((id) => done.has(id));
  });
}
