import type { Knex } from 'knex';
import type { JobPage, JobPageQuery, JobRow, JobState, QueueSizes } from '../driver.js';
import { ABOVE_PRIORITIES, walkPage, type PageReader, type Stretch } from './job-page-walk.js';
import type { Row } from './postgres-settle.js';
import { SQL } from './postgres-sql.js';
import { toRow } from './rows.js';

/*
 * What operators read on PostgreSQL: sizes, queue names, listings, and clearing a queue, for
 * the PostgresQueue's delegations. Operators' commands, not the worker's hot path: they run on
 * the durable knex pool.
 */

async function rows(
  on: Knex | Knex.Transaction,
  sql: string,
  bindings: readonly unknown[],
): Promise<Row[]> {
  const result = await on.raw(sql, bindings as Knex.RawBinding[]);
  return (result as { rows: Row[] }).rows;
}

export async function queueSizes(knex: Knex, queues: string[]): Promise<QueueSizes[]> {
  const found = await rows(knex, SQL.sizes, [queues]);
  return queues.map((queue) => {
    const row = found.find((r) => r.queue === queue);
    return {
      queue,
      pending: Number(row?.pending ?? 0),
      delayed: Number(row?.delayed ?? 0),
      reserved: Number(row?.reserved ?? 0),
    };
  });
}

export async function queueNames(knex: Knex): Promise<string[]> {
  return (await rows(knex, SQL.queueNames, [])).map((r) => r.queue as string);
}

export async function listJobs(
  knex: Knex,
  queue: string,
  state: JobState | undefined,
  offset: number,
  limit: number,
  tag: string | undefined,
): Promise<JobRow[]> {
  const s = state ?? null;
  const t = tag ?? null;
  const found = await rows(knex, SQL.list, [queue, s, s, s, s, t, t, limit, offset]);
  return found.map((r) => toRow(r, Number(r.now)));
}

/** A keyset page of a queue's jobs (QueueDriver.listPage), in `listJobs`' order. */
export async function listJobPage(
  knex: Knex,
  queue: string,
  query: JobPageQuery,
): Promise<JobPage> {
  const now = Number((await rows(knex, SQL.now, []))[0]!.now);
  const filter = [now, query.state ?? null, query.tag ?? null, query.name ?? null];
  const { rows: found, next } = await walkPage(pageReader(knex, queue, filter), query, now);
  return { jobs: found.map((r) => toRow(r, now)), next };
}

/** listPage's statements on PostgreSQL for one request; `filter` PAGE_FILTER_VALUES'. */
function pageReader(knex: Knex, queue: string, filter: unknown[]): PageReader<Row> {
  const at = (s: Stretch) => [queue, s.priority, s.readyAt, s.id];
  return {
    async topPriority(below) {
      const [row] = await rows(knex, SQL.pageTop, [queue, below ?? ABOVE_PRIORITIES]);
      return row?.priority == null ? null : Number(row.priority);
    },
    async edge(s, count) {
      const [row] = await rows(knex, SQL.pageEdge, [...at(s), s.below, count]);
      if (!row) return { n: 0, readyAt: 0, id: 0 };
      return { n: Number(row.n), readyAt: Number(row.readyAt), id: Number(row.id) };
    },
    matches(s, last, want) {
      return rows(knex, SQL.pageRows, [...filter, ...at(s), last.readyAt, last.id, want]);
    },
  };
}

/** Deletes a queue's jobs that no live lease holds and frees their unique keys, at one commit. */
export async function clearQueue(knex: Knex, queue: string): Promise<number> {
  return knex.transaction(async (trx) => {
    const cleared = await rows(trx, SQL.clearQueue, [queue]);
    if (cleared.length > 0) await rows(trx, SQL.dropUniquesOf, [cleared.map((r) => String(r.id))]);
    return cleared.length;
  });
}
