import type { Knex } from 'knex';
import { RUNTIME_BUCKET_COLUMNS } from './buckets.js';
import type { MetricsDelta } from './delta.js';

/*
 * The SQL of job_metrics, one function per statement. The table lives in the SQL storage for
 * every queue backend (as failed_jobs does), so `queue:stats` reads one place.
 */

const TABLE = 'job_metrics';

/** Columns a flush adds to: the existing value plus the delta's. */
const ADDED = [
  'processed',
  'succeeded',
  'failed',
  'retried',
  'deferred',
  'cancelled',
  'skipped',
  'abandoned',
  'runtime_count',
  'runtime_sum_ms',
  ...RUNTIME_BUCKET_COLUMNS,
  'wait_sum_ms',
  'wait_count',
] as const;

/**
 * Rows per INSERT: 32 columns each stays far below SQLite's limit of bound variables (32,766)
 * and PostgreSQL's (65,535).
 */
const ROWS_PER_STATEMENT = 500;

function toRow(d: MetricsDelta): Record<string, string | number> {
  const row: Record<string, string | number> = {
    minute: d.minute,
    queue: d.queue,
    name: d.name,
    processed: d.processed,
    succeeded: d.succeeded,
    failed: d.failed,
    retried: d.retried,
    deferred: d.deferred,
    cancelled: d.cancelled,
    skipped: d.skipped,
    abandoned: d.abandoned,
    runtime_count: d.runtimeCount,
    runtime_sum_ms: Math.round(d.runtimeSumMs),
    runtime_max_ms: Math.round(d.runtimeMaxMs),
    wait_sum_ms: Math.round(d.waitSumMs),
    wait_count: d.waitCount,
  };
  RUNTIME_BUCKET_COLUMNS.forEach((column, i) => (row[column] = d.buckets[i] ?? 0));
  return row;
}

function byKey(a: MetricsDelta, b: MetricsDelta): number {
  if (a.minute !== b.minute) return a.minute - b.minute;
  if (a.queue !== b.queue) return a.queue < b.queue ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Adds the deltas to their rows, creating missing ones, in one transaction: either every
 * delta is counted or none is, so a flush that fails can be retried without counting twice.
 */
export async function addMetrics(knex: Knex, deltas: MetricsDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const merge: Record<string, Knex.Raw> = {};
  for (const column of ADDED) {
    merge[column] = knex.raw('??.?? + excluded.??', [TABLE, column, column]);
  }
  // GREATEST is PostgreSQL's and MAX(a, b) SQLite's: CASE is both.
  merge.runtime_max_ms = knex.raw(
    'case when excluded.runtime_max_ms > ??.runtime_max_ms then excluded.runtime_max_ms else ??.runtime_max_ms end',
    [TABLE, TABLE],
  );
  // Rows in key order: two workers adding to the same rows lock them in the same order, so
  // their transactions queue behind each other instead of deadlocking (PostgreSQL).
  const rows = [...deltas].sort(byKey).map(toRow);
  await knex.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      await trx(TABLE)
        .insert(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict(['minute', 'queue', 'name'])
        .merge(merge);
    }
  });
}

/**
 * Deletes rows of minutes before `cutoff` (epoch ms), at most `spanMs` worth of minutes from
 * the oldest row on: bounded work per call, however far behind pruning is (a worker that was
 * off for a month catches up a slice at a time). Returns the rows deleted.
 */
export async function pruneMetrics(knex: Knex, cutoff: number, spanMs: number): Promise<number> {
  const oldest = await knex(TABLE).min({ m: 'minute' }).first();
  const from = oldest?.m == null ? undefined : Number(oldest.m);
  if (from === undefined || from >= cutoff) return 0;
  return knex(TABLE)
    .where('minute', '<', Math.min(cutoff, from + spanMs))
    .delete();
}

export interface MetricsFilter {
  /** Rows of minutes that start at or after this (epoch ms). */
  since: number;
  queue?: string;
}

/** Sums over rows: the counts, the histogram and the largest runtime, per queue or per job. */
export type MetricsTotals = Omit<MetricsDelta, 'minute' | 'queue' | 'name'> & {
  queue?: string;
  name?: string;
};

/** Totals per queue (`by: 'queue'`) or per job name (`by: 'job'`), in name order. */
export async function sumMetrics(
  knex: Knex,
  filter: MetricsFilter,
  by: 'queue' | 'job',
): Promise<MetricsTotals[]> {
  const group = by === 'queue' ? 'queue' : 'name';
  const sums = [...ADDED].map((c) => knex.raw('sum(??) as ??', [c, c]));
  const q = knex(TABLE)
    .select(group, ...sums, knex.raw('max(runtime_max_ms) as runtime_max_ms'))
    .where('minute', '>=', filter.since)
    .groupBy(group)
    .orderBy(group);
  if (filter.queue !== undefined) q.where('queue', filter.queue);
  const rows: Array<Record<string, unknown>> = await q;
  // PostgreSQL returns sums of bigints as numeric, in strings.
  const n = (v: unknown) => Number(v ?? 0);
  return rows.map((r) => ({
    ...(by === 'queue' ? { queue: String(r.queue) } : { name: String(r.name) }),
    processed: n(r.processed),
    succeeded: n(r.succeeded),
    failed: n(r.failed),
    retried: n(r.retried),
    deferred: n(r.deferred),
    cancelled: n(r.cancelled),
    skipped: n(r.skipped),
    abandoned: n(r.abandoned),
    runtimeCount: n(r.runtime_count),
    runtimeSumMs: n(r.runtime_sum_ms),
    runtimeMaxMs: n(r.runtime_max_ms),
    buckets: RUNTIME_BUCKET_COLUMNS.map((c) => n(r[c])),
    waitSumMs: n(r.wait_sum_ms),
    waitCount: n(r.wait_count),
  }));
}

/** One minute of job_metrics summed over its queues and jobs (metricsSeries). */
export interface MinuteTotals {
  /** Epoch ms of the minute's start. */
  minute: number;
  processed: number;
  succeeded: number;
  failed: number;
  retried: number;
  cancelled: number;
  runtimeCount: number;
  runtimeSumMs: number;
  runtimeMaxMs: number;
  buckets: number[];
}

/**
 * The minutes from `since` (epoch ms) on, oldest first, each summed over every queue and job
 * (or one queue's): the overview's charts. Reads the primary key's range of those minutes.
 */
export async function metricsSeries(knex: Knex, filter: MetricsFilter): Promise<MinuteTotals[]> {
  const columns = [
    'processed',
    'succeeded',
    'failed',
    'retried',
    'cancelled',
    'runtime_count',
    'runtime_sum_ms',
    ...RUNTIME_BUCKET_COLUMNS,
  ];
  const q = knex(TABLE)
    .select(
      'minute',
      ...columns.map((c) => knex.raw('sum(??) as ??', [c, c])),
      knex.raw('max(runtime_max_ms) as runtime_max_ms'),
    )
    .where('minute', '>=', filter.since)
    .groupBy('minute')
    .orderBy('minute');
  if (filter.queue !== undefined) q.where('queue', filter.queue);
  const rows: Array<Record<string, unknown>> = await q;
  const n = (v: unknown) => Number(v ?? 0);
  return rows.map((r) => ({
    minute: n(r.minute),
    processed: n(r.processed),
    succeeded: n(r.succeeded),
    failed: n(r.failed),
    retried: n(r.retried),
    cancelled: n(r.cancelled),
    runtimeCount: n(r.runtime_count),
    runtimeSumMs: n(r.runtime_sum_ms),
    runtimeMaxMs: n(r.runtime_max_ms),
    buckets: RUNTIME_BUCKET_COLUMNS.map((c) => n(r[c])),
  }));
}
