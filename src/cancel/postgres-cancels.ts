import type { Knex } from 'knex';
import type { CancelRequest, CancelResult, JobRow } from '../queue/driver.js';
import { NOW } from '../queue/database/postgres-sql.js';
import { toRow } from '../queue/database/rows.js';
import { sqlJobIds } from './sql-ids.js';

/*
 * QueueDriver.cancel, cancelRequests and forgetCancels on PostgreSQL (PostgresQueue delegates
 * here). Cancelling locks the jobs' rows first (FOR UPDATE), so no claim or completion changes
 * a job between reading its state and acting on it; claims skip locked rows meanwhile.
 */

const SQL = {
  lock: `select *, ${NOW} as now from jobs where id = any(?::bigint[]) order by id for update`,
  deleteWaiting: `
    delete from jobs where id = any(?::bigint[]) and (reserved_at is null or available_at <= ${NOW})
    returning id`,
  dropUniquesOf: `delete from job_uniques where job_id = any(?::text[])`,
  request: `
    insert into job_cancels (job_id, reason, requested_at)
    select id, ?, ${NOW} from unnest(?::bigint[]) as t(id)
    on conflict (job_id) do update set reason = excluded.reason, requested_at = excluded.requested_at`,
  // Requests whose job ended some other way (it finished before its worker looked).
  sweep: `delete from job_cancels c where not exists (select 1 from jobs j where j.id = c.job_id)`,
  requests: `select job_id, reason from job_cancels where job_id = any(?::bigint[])`,
  forget: `delete from job_cancels where job_id = any(?::bigint[])`,
} as const;

type Row = Record<string, unknown>;

async function rows(k: Knex | Knex.Transaction, sql: string, bindings: unknown[]): Promise<Row[]> {
  const result = await k.raw(sql, bindings as Knex.RawBinding[]);
  return (result as { rows: Row[] }).rows;
}

export async function postgresCancel(
  knex: Knex,
  ids: string[],
  reason: string,
): Promise<CancelResult> {
  const wanted = sqlJobIds(ids);
  if (wanted.length === 0) return { removed: [], requested: [] };
  return knex.transaction(async (trx) => {
    const found = await rows(trx, SQL.lock, [wanted]);
    const held = (r: Row) => r.reserved_at != null && Number(r.available_at) > Number(r.now);
    const waiting = found.filter((r) => !held(r));
    const deleted = new Set(
      waiting.length === 0
        ? []
        : (await rows(trx, SQL.deleteWaiting, [waiting.map((r) => String(r.id))])).map((r) =>
            String(r.id),
          ),
    );
    const removed: JobRow[] = found
      .filter((r) => deleted.has(String(r.id)))
      .map((r) => toRow(r, Number(r.now)));
    if (removed.length > 0) await trx.raw(SQL.dropUniquesOf, [removed.map((r) => r.id)]);
    const requested = found.filter((r) => !deleted.has(String(r.id))).map((r) => String(r.id));
    if (requested.length > 0) await trx.raw(SQL.request, [reason, requested]);
    await trx.raw(SQL.sweep);
    const order = new Map(wanted.map((id, i) => [id, i]));
    const byGiven = (a: string, b: string) => order.get(a)! - order.get(b)!;
    removed.sort((a, b) => byGiven(a.id, b.id));
    requested.sort(byGiven);
    return { removed, requested };
  });
}

export async function postgresCancelRequests(knex: Knex, ids: string[]): Promise<CancelRequest[]> {
  const wanted = sqlJobIds(ids);
  if (wanted.length === 0) return [];
  const found = await rows(knex, SQL.requests, [wanted]);
  return found.map((r) => ({ id: String(r.job_id), reason: String(r.reason) }));
}

export async function postgresForgetCancels(knex: Knex, ids: string[]): Promise<void> {
  const wanted = sqlJobIds(ids);
  if (wanted.length > 0) await knex.raw(SQL.forget, [wanted]);
}
