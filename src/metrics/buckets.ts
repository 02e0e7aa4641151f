/*
 * The runtime histogram of job_metrics: fixed buckets, the same in every row, so rows add up
 * and a percentile can be read from any range of minutes. Upper bounds in ms, inclusive; the
 * last bucket holds everything above 2 minutes (GPT calls and mail sends can be slow, so the
 * buckets reach that far rather than stopping at Horizon-style seconds).
 */

/** Upper bound (ms, inclusive) of each bucket but the last, which is open-ended. */
export const RUNTIME_BUCKETS_MS = [
  10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000,
] as const;

/** The histogram's columns in job_metrics, one per bucket, the open-ended one last. */
export const RUNTIME_BUCKET_COLUMNS = [
  'rt_le_10ms',
  'rt_le_50ms',
  'rt_le_100ms',
  'rt_le_250ms',
  'rt_le_500ms',
  'rt_le_1s',
  'rt_le_2500ms',
  'rt_le_5s',
  'rt_le_10s',
  'rt_le_30s',
  'rt_le_1m',
  'rt_le_2m',
  'rt_gt_2m',
] as const;

/** The bucket (index into RUNTIME_BUCKET_COLUMNS) a runtime falls in. */
export function bucketOf(ms: number): number {
  for (let i = 0; i < RUNTIME_BUCKETS_MS.length; i++) {
    if (ms <= RUNTIME_BUCKETS_MS[i]!) return i;
  }
  return RUNTIME_BUCKETS_MS.length;
}

/**
 * The q-quantile (0.95 for p95) of the runtimes counted in `counts`, interpolated linearly
 * inside its bucket and never above the largest runtime seen (`maxMs`); undefined when there
 * are no runtimes. Within a bucket the estimate is off by at most the bucket's width.
 */
export function quantileOf(
  counts: readonly number[],
  q: number,
  maxMs: number,
): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : RUNTIME_BUCKETS_MS[i - 1]!;
      const upper = i < RUNTIME_BUCKETS_MS.length ? RUNTIME_BUCKETS_MS[i]! : maxMs;
      const estimate = lower + ((rank - seen) / n) * (Math.max(upper, lower) - lower);
      return Math.min(estimate, maxMs);
    }
    seen += n;
  }
  return maxMs;
}
