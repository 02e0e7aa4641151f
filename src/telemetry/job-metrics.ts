/*
 * A worker's job counters and histograms, from its events (src/worker/events.ts), the way
 * src/metrics/recorder.ts counts them for job_metrics: a listener only adds to numbers in
 * memory (series.ts), a scrape reads them.
 */
import type { Registry } from 'prom-client';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents } from '../worker/events.js';
import type { WorkerEventSource } from '../metrics/recorder.js';
import { METRICS, SECONDS_BUCKETS, UNKNOWN_JOB, type JobOutcome } from './names.js';
import { CounterFamily, HistogramFamily, type HistogramSeries } from './series.js';

export interface WatchOptions {
  /** Whether the worker knows a job name; others are counted as `(unknown)`. */
  known(name: string): boolean;
  /**
   * Jobs (queue and name) whose succeeded and failed counts start at 0, so that a rate shows
   * from the first job instead of a series appearing later (Prometheus cannot rate a series
   * it has seen once).
   */
  expected?: ReadonlyArray<{ queue: string; job: string }>;
}

/** One queue and job's series, looked up once per pair. */
interface Series {
  outcome: Partial<Record<JobOutcome, { value: number }>>;
  duration: HistogramSeries;
}

export class JobMetrics {
  private readonly processed = new CounterFamily(METRICS.jobsProcessed);
  private readonly duration = new HistogramFamily(METRICS.jobDuration, SECONDS_BUCKETS);
  private readonly wait = new HistogramFamily(METRICS.jobWait, SECONDS_BUCKETS);
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly waits = new Map<string, HistogramSeries>();

  constructor(registry: Registry) {
    for (const family of [this.processed, this.duration, this.wait])
      registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Counts `worker`'s jobs from now on; returns what stops it. */
  watch(worker: WorkerEventSource, options: WatchOptions): () => void {
    // A job's label by its name, decided once per name: the registry's lookup is not free at
    // tens of thousands of jobs a second.
    const labels = new Map<string, string>();
    const job = (j: ClaimedJob) => {
      let label = labels.get(j.name);
      if (label === undefined) {
        label = options.known(j.name) ? j.name : UNKNOWN_JOB;
        labels.set(j.name, label);
      }
      return label;
    };
    for (const e of options.expected ?? []) {
      this.count(e.queue, e.job, 'succeeded', 0);
      this.count(e.queue, e.job, 'failed', 0);
    }
    const counted = (j: ClaimedJob, outcome: JobOutcome) => this.count(j.queue, job(j), outcome);
    const ran = (j: ClaimedJob, outcome: JobOutcome, ms: number) =>
      counted(j, outcome).duration.observe(ms / 1000);
    const listeners: { [K in keyof WorkerEvents]?: (...args: WorkerEvents[K]) => void } = {
      'job:processing': ({ job: j }) => {
        // readyAt is the storage's clock: a skew must not make a wait negative.
        if (j.readyAt !== undefined)
          this.waitOf(j.queue).observe(Math.max(0, Date.now() - j.readyAt) / 1000);
      },
      'job:processed': ({ job: j, durationMs }) => ran(j, 'succeeded', durationMs),
      'job:failed': ({ job: j, durationMs, reason }) =>
        // A poison payload or spent tries fail the job without running its handler.
        reason === 'error' || reason === 'timeout'
          ? ran(j, 'failed', durationMs)
          : counted(j, 'failed'),
      // RetryAfter (a rate limit, an open breaker) spends no attempt and often runs nothing.
      'job:released': ({ job: j, durationMs, refunded }) =>
        refunded ? counted(j, 'deferred') : ran(j, 'released', durationMs),
      'job:cancelled': ({ job: j, durationMs }) => ran(j, 'cancelled', durationMs),
      'job:skipped': ({ job: j }) => counted(j, 'skipped'),
      // Cut short by a shutdown or a lost lease: not a runtime, and the job comes back.
      'job:abandoned': ({ job: j }) => counted(j, 'abandoned'),
      'job:lost': ({ job: j }) => counted(j, 'lost'),
    };
    const entries = Object.entries(listeners) as Array<[keyof WorkerEvents, never]>;
    for (const [event, listener] of entries) worker.on(event, listener);
    return () => {
      for (const [event, listener] of entries) worker.off(event, listener);
    };
  }

  private waitOf(queue: string): HistogramSeries {
    let series = this.waits.get(queue);
    if (!series) {
      series = this.wait.series(queue);
      this.waits.set(queue, series);
    }
    return series;
  }

  private count(queue: string, job: string, outcome: JobOutcome, by = 1): Series {
    // Two levels, so that no key string is built per job.
    let byJob = this.series.get(queue);
    if (!byJob) {
      byJob = new Map();
      this.series.set(queue, byJob);
    }
    let s = byJob.get(job);
    if (!s) {
      s = { outcome: {}, duration: this.duration.series(queue, job) };
      byJob.set(job, s);
    }
    (s.outcome[outcome] ??= this.processed.series(queue, job, outcome)).value += by;
    return s;
  }
}

/** A spec as prom-client's options. */
export function spec(m: { name: string; help: string; labels: readonly string[] }) {
  return { name: m.name, help: m.help, labelNames: [...m.labels] };
}
