import type { Knex } from 'knex';
import type { QueueReport } from '../queue/sizes.js';
import { workersReport } from '../workers/report.js';
import { quantileOf } from './buckets.js';
import { metricsSeries, type MinuteTotals } from './store.js';

/** The dashboard's first page: queues, counts, and per-minute charts from job_metrics. */
export interface Overview {
  /** `queue:size --json` rows, as given (the dashboard's snapshot: counting is not per request). */
  queues: QueueReport[];
  /** The queues' failed jobs, summed. */
  failed: number;
  /** Registered workers with a recent heartbeat (not stale). */
  workers: number;
  /** Sums over the minutes since `since`. */
  totals: {
    processed: number;
    succeeded: number;
    failed: number;
    retried: number;
    cancelled: number;
  };
  /**
   * One point per minute from `since` to now, oldest first: a minute without jobs is a point of
   * zeros (and null runtimes), so a chart spans the whole window and shows quiet minutes as 0
   * rather than a line drawn between busy ones.
   */
  series: SeriesPoint[];
}

export interface SeriesPoint {
  /** ISO 8601: the minute's start. */
  minute: string;
  processed: number;
  succeeded: number;
  failed: number;
  /** Per attempt that ran its handler; null when none did that minute. */
  runtimeAvgMs: number | null;
  /** From the runtime histogram (accurate to its bucket); null when none ran. */
  runtimeP95Ms: number | null;
}

/**
 * The overview of `queues` (counted elsewhere) with the workers and the metrics from `since`
 * (epoch ms, rounded down to its minute) to now.
 */
export async function readOverview(
  knex: Knex,
  queues: QueueReport[],
  since: number,
  now = Date.now(),
): Promise<Overview> {
  const minute = Math.floor(since / 60_000) * 60_000;
  const [workers, minutes] = await Promise.all([
    workersReport(knex),
    metricsSeries(knex, { since: minute }),
  ]);
  const totals = { processed: 0, succeeded: 0, failed: 0, retried: 0, cancelled: 0 };
  for (const m of minutes) {
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += m[key];
  }
  return {
    queues,
    failed: queues.reduce((sum, q) => sum + q.failed, 0),
    workers: workers.filter((w) => !w.stale).length,
    totals,
    series: everyMinute(minutes, minute, Math.floor(now / 60_000) * 60_000),
  };
}

function everyMinute(minutes: MinuteTotals[], first: number, last: number): SeriesPoint[] {
  const byMinute = new Map(minutes.map((m) => [m.minute, m]));
  const points: SeriesPoint[] = [];
  for (let at = first; at <= last; at += 60_000) {
    const m = byMinute.get(at);
    points.push(
      m
        ? point(m)
        : {
            minute: new Date(at).toISOString(),
            processed: 0,
            succeeded: 0,
            failed: 0,
            runtimeAvgMs: null,
            runtimeP95Ms: null,
          },
    );
  }
  return points;
}

function point(m: MinuteTotals): SeriesPoint {
  return {
    minute: new Date(m.minute).toISOString(),
    processed: m.processed,
    succeeded: m.succeeded,
    failed: m.failed,
    runtimeAvgMs: m.runtimeCount > 0 ? m.runtimeSumMs / m.runtimeCount : null,
    runtimeP95Ms: quantileOf(m.buckets, 0.95, m.runtimeMaxMs) ?? null,
  };
}
