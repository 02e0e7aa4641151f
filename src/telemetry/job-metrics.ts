/*
 * A worker's job counters and histograms, from its events (src/worker/events.ts), the way
 * src/metrics/recorder.ts counts them for job_metrics: a listener only bumps numbers in memory,
 * a scrape reads them. prom-client costs about 1 µs a job (three label lookups).
 */
import type { Counter, Histogram, Registry } from 'prom-client';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents } from '../worker/events.js';
import type { WorkerEventSource } from '../metrics/recorder.js';
import { METRICS, SECONDS_BUCKETS, UNKNOWN_JOB, type JobOutcome } from './names.js';
import type { Prom } from './prom.js';

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

interface Series {
  outcome: Partial<Record<JobOutcome, { inc(value?: number): void }>>;
  duration: { observe(seconds: number): void };
}

export class JobMetrics {
  private readonly processed: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly wait: Histogram<string>;
  private readonly series = new Map<string, Series>();
  private readonly waits = new Map<string, { observe(seconds: number): void }>();

  constructor(prom: Prom, registry: Registry) {
    const { jobsProcessed, jobDuration, jobWait } = METRICS;
    this.processed = new prom.Counter({ ...spec(jobsProcessed), registers: [registry] });
    this.duration = new prom.Histogram({
      ...spec(jobDuration),
      buckets: [...SECONDS_BUCKETS],
      registers: [registry],
    });
    this.wait = new prom.Histogram({
      ...spec(jobWait),
      buckets: [...SECONDS_BUCKETS],
      registers: [registry],
    });
  }

  /** Counts `worker`'s jobs from now on; returns what stops it. */
  watch(worker: WorkerEventSource, options: WatchOptions): () => void {
    const job = (j: ClaimedJob) => (options.known(j.name) ? j.name : UNKNOWN_JOB);
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

  private count(queue: string, job: string, outcome: JobOutcome, by = 1): Series {
    const s = this.of(queue, job);
    (s.outcome[outcome] ??= this.processed.labels(queue, job, outcome)).inc(by);
    return s;
  }

  /** The label children of one queue and job, made once: labels() hashes them on every call. */
  private of(queue: string, job: string): Series {
    const key = `${queue}\u0000${job}`;
    let s = this.series.get(key);
    if (!s) {
      s = { outcome: {}, duration: this.duration.labels(queue, job) };
      this.series.set(key, s);
    }
    return s;
  }

  private waitOf(queue: string) {
    let w = this.waits.get(queue);
    if (!w) {
      w = this.wait.labels(queue);
      this.waits.set(queue, w);
    }
    return w;
  }
}

/** A spec as prom-client's options. */
export function spec(m: { name: string; help: string; labels: readonly string[] }) {
  return { name: m.name, help: m.help, labelNames: [...m.labels] };
}
