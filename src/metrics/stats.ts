import type { Knex } from 'knex';
import { quantileOf } from './buckets.js';
import { sumMetrics, type MetricsTotals } from './store.js';

/** One row of `run queue:stats`: what an admin panel shows for a queue or a job. */
export interface StatsRow {
  queue?: string;
  name?: string;
  /** Jobs finished per minute over the whole range asked for. */
  throughputPerMinute: number;
  /** Jobs that finished: succeeded + failed + cancelled + skipped. */
  processed: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  /** Attempts that failed and were released to run again. */
  retried: number;
  /** Releases by RetryAfter (rate limit, open breaker): no attempt spent. */
  deferred: number;
  /** Attempts put back at shutdown or after a lost lease. */
  abandoned: number;
  /** failed / processed (0 to 1); null with nothing processed. */
  failureShare: number | null;
  /** retried / processed; null with nothing processed. */
  averageRetries: number | null;
  /** Per attempt that ran its handler, in ms; null when none did. */
  averageRuntimeMs: number | null;
  /** From the runtime histogram (accurate to its bucket); null when no attempt ran. */
  p95RuntimeMs: number | null;
  maxRuntimeMs: number | null;
  /** From when a job could run to its start; null when the driver gave no ready time. */
  averageWaitMs: number | null;
}

export interface StatsReport {
  /** ISO 8601: the start of the first minute counted. */
  since: string;
  until: string;
  by: 'queue' | 'job';
  rows: StatsRow[];
}

/**
 * Sums job_metrics from `since` to `now`, per queue or per job name. Rows are whole minutes:
 * `since` is rounded down to its minute, and the minute in progress counts what workers have
 * flushed so far (they write every few seconds).
 */
export async function readStats(
  knex: Knex,
  options: { since: number; by: 'queue' | 'job'; queue?: string; now?: number },
): Promise<StatsReport> {
  const now = options.now ?? Date.now();
  const since = Math.floor(options.since / 60_000) * 60_000;
  const totals = await sumMetrics(knex, { since, queue: options.queue }, options.by);
  const minutes = Math.max(1, (now - since) / 60_000);
  return {
    since: new Date(since).toISOString(),
    until: new Date(now).toISOString(),
    by: options.by,
    rows: totals.map((t) => statsRow(t, minutes)),
  };
}

export function statsRow(t: MetricsTotals, minutes: number): StatsRow {
  const per = (n: number, d: number) => (d > 0 ? n / d : null);
  return {
    ...(t.queue !== undefined ? { queue: t.queue } : {}),
    ...(t.name !== undefined ? { name: t.name } : {}),
    throughputPerMinute: t.processed / minutes,
    processed: t.processed,
    succeeded: t.succeeded,
    failed: t.failed,
    cancelled: t.cancelled,
    skipped: t.skipped,
    retried: t.retried,
    deferred: t.deferred,
    abandoned: t.abandoned,
    failureShare: per(t.failed, t.processed),
    averageRetries: per(t.retried, t.processed),
    averageRuntimeMs: per(t.runtimeSumMs, t.runtimeCount),
    p95RuntimeMs: quantileOf(t.buckets, 0.95, t.runtimeMaxMs) ?? null,
    maxRuntimeMs: t.runtimeCount > 0 ? t.runtimeMaxMs : null,
    averageWaitMs: per(t.waitSumMs, t.waitCount),
  };
}
