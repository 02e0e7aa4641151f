import { RUNTIME_BUCKET_COLUMNS } from './buckets.js';

/**
 * What one worker counted for one minute, queue and job name since its last flush: the
 * amounts a flush adds to that row of job_metrics (migrations/0018_job_metrics.ts).
 */
export interface MetricsDelta {
  /** Epoch ms of the minute's start. */
  minute: number;
  queue: string;
  name: string;
  processed: number;
  succeeded: number;
  failed: number;
  retried: number;
  deferred: number;
  cancelled: number;
  skipped: number;
  abandoned: number;
  runtimeCount: number;
  runtimeSumMs: number;
  runtimeMaxMs: number;
  /** Counts per runtime bucket, in the order of RUNTIME_BUCKET_COLUMNS. */
  buckets: number[];
  waitSumMs: number;
  waitCount: number;
}

export function emptyDelta(minute: number, queue: string, name: string): MetricsDelta {
  return {
    minute,
    queue,
    name,
    processed: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deferred: 0,
    cancelled: 0,
    skipped: 0,
    abandoned: 0,
    runtimeCount: 0,
    runtimeSumMs: 0,
    runtimeMaxMs: 0,
    buckets: RUNTIME_BUCKET_COLUMNS.map(() => 0),
    waitSumMs: 0,
    waitCount: 0,
  };
}

/** Adds `from` into `into` (the same minute, queue and name): counts add, the maximum stays one. */
export function addDelta(into: MetricsDelta, from: MetricsDelta): void {
  into.processed += from.processed;
  into.succeeded += from.succeeded;
  into.failed += from.failed;
  into.retried += from.retried;
  into.deferred += from.deferred;
  into.cancelled += from.cancelled;
  into.skipped += from.skipped;
  into.abandoned += from.abandoned;
  into.runtimeCount += from.runtimeCount;
  into.runtimeSumMs += from.runtimeSumMs;
  into.runtimeMaxMs = Math.max(into.runtimeMaxMs, from.runtimeMaxMs);
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += from.buckets[i] ?? 0;
  into.waitSumMs += from.waitSumMs;
  into.waitCount += from.waitCount;
}

/** The key of a delta in a map of deltas. */
export function deltaKey(minute: number, queue: string, name: string): string {
  return `${minute}\u0000${queue}\u0000${name}`;
}
