import type { Knex } from 'knex';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents } from '../worker/events.js';
import { bucketOf } from './buckets.js';
import { addDelta, deltaKey, emptyDelta, type MetricsDelta } from './delta.js';
import { addMetrics, pruneMetrics } from './store.js';

/** How often a recorder writes what it counted. @defaultValue 5000 */
export const FLUSH_EVERY_MS = 5_000;
/** How often a recorder deletes rows past the retention. @defaultValue 60000 */
export const PRUNE_EVERY_MS = 60_000;
/** How long stop() tries to write what is left. @defaultValue 5000 */
export const STOP_TIMEOUT_MS = 5_000;
/** The most minutes one prune deletes (an hour's rows): bounded work however far behind. */
export const PRUNE_SPAN_MS = 3_600_000;

/** The part of a Worker the recorder listens to. */
export interface WorkerEventSource {
  on<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): unknown;
  off<K extends keyof WorkerEvents>(
    event: K,
    listener: (...args: WorkerEvents[K]) => void,
  ): unknown;
}

export interface MetricsRecorderOptions {
  /** The SQL storage that holds job_metrics (whatever backend holds the jobs). */
  knex: Knex;
  /** Rows of minutes older than this are deleted (METRICS_RETENTION), in ms. */
  retentionMs: number;
  /** @defaultValue FLUSH_EVERY_MS */
  flushEveryMs?: number;
  /** @defaultValue PRUNE_EVERY_MS */
  pruneEveryMs?: number;
  /** A flush or prune failed; the counts are kept and written with the next flush. */
  onError?: (error: Error, during: string) => void;
  /** The clock; tests move it. */
  now?: () => number;
}

/**
 * Counts what a worker does, per minute, queue and job name, from the worker's events, and
 * adds the counts to job_metrics at most once every few seconds, off the jobs' path (a job
 * event only updates a map). A flush is one transaction; its counts leave memory only once it
 * committed, and a failed one is merged back into what comes next, so a count is written once
 * or (when the process dies before its flush) not at all: a `kill -9` loses at most the last
 * few seconds and never counts a job twice.
 */
export class MetricsRecorder {
  private pending = new Map<string, MetricsDelta>();
  private flushing: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = Number.NEGATIVE_INFINITY;
  /** The delta the last event went to, while it is still in `pending`. */
  private last: MetricsDelta | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MetricsRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Listens to `worker`'s job events; returns what stops listening. */
  attach(worker: WorkerEventSource): () => void {
    const listeners: { [K in keyof WorkerEvents]?: (...args: WorkerEvents[K]) => void } = {
      'job:processing': ({ job }) => this.started(job),
      'job:processed': ({ job, durationMs }) => {
        const d = this.delta(job);
        d.processed++;
        d.succeeded++;
        ran(d, durationMs);
      },
      'job:failed': ({ job, durationMs, reason }) => {
        const d = this.delta(job);
        d.processed++;
        d.failed++;
        // A poison payload or spent tries fail the job without running its handler.
        if (reason === 'error' || reason === 'timeout') ran(d, durationMs);
      },
      'job:released': ({ job, durationMs, refunded }) => {
        const d = this.delta(job);
        // RetryAfter (a rate limit, an open breaker) spends no attempt and often runs nothing.
        if (refunded) d.deferred++;
        else {
          d.retried++;
          ran(d, durationMs);
        }
      },
      'job:cancelled': ({ job, durationMs }) => {
        const d = this.delta(job);
        d.processed++;
        d.cancelled++;
        ran(d, durationMs);
      },
      'job:skipped': ({ job }) => {
        const d = this.delta(job);
        d.processed++;
        d.skipped++;
      },
      // Cut short by a shutdown or a lost lease: not a runtime, and the job comes back.
      'job:abandoned': ({ job }) => void this.delta(job).abandoned++,
    };
    const entries = Object.entries(listeners) as Array<[keyof WorkerEvents, never]>;
    for (const [event, listener] of entries) worker.on(event, listener);
    return () => {
      for (const [event, listener] of entries) worker.off(event, listener);
    };
  }

  /** Starts writing every flushEveryMs (and pruning every pruneEveryMs). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.flushEveryMs ?? FLUSH_EVERY_MS);
    // A worker that is done exits without waiting for the next flush: stop() writes the rest.
    this.timer.unref();
  }

  /**
   * Stops the timer and writes what is left, once more if that fails, for at most `timeoutMs`:
   * a worker that stops because its storage is gone must not hang on it. True if all is written.
   */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<boolean> {
    clearInterval(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([(async () => (await this.flush()) || this.flush())(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes what was counted since the last flush in one transaction. On failure the counts go
   * back into memory, added to what was counted meanwhile, for the next flush. One flush at a
   * time: a call during a flush waits for it, then writes what is left. True if it committed.
   */
  async flush(): Promise<boolean> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return true;
    const batch = this.pending;
    this.pending = new Map();
    this.last = undefined;
    this.flushing = addMetrics(this.options.knex, [...batch.values()]).then(
      () => true,
      (error: unknown) => {
        for (const [key, d] of batch) {
          const later = this.pending.get(key);
          if (later) addDelta(d, later);
          this.pending.set(key, d);
        }
        this.last = undefined;
        this.options.onError?.(asError(error), 'metrics flush');
        return false;
      },
    );
    try {
      return await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Deletes a bounded slice of rows past the retention; the number deleted. */
  async prune(): Promise<number> {
    this.lastPrune = this.now();
    try {
      return await pruneMetrics(
        this.options.knex,
        this.now() - this.options.retentionMs,
        PRUNE_SPAN_MS,
      );
    } catch (error) {
      this.options.onError?.(asError(error), 'metrics prune');
      return 0;
    }
  }

  private async tick(): Promise<void> {
    // A flush still waiting on a slow storage: the next tick writes, rather than queueing more.
    if (this.flushing) return;
    await this.flush();
    if (this.now() - this.lastPrune >= (this.options.pruneEveryMs ?? PRUNE_EVERY_MS)) {
      await this.prune();
    }
  }

  /** Wait: from when the job could run (readyAt, when its driver gives it) to its start. */
  private started(job: ClaimedJob): void {
    if (job.readyAt === undefined) return;
    const d = this.delta(job);
    // readyAt comes from the storage's clock: a skew must not make a wait negative.
    d.waitSumMs += Math.max(0, this.now() - job.readyAt);
    d.waitCount++;
  }

  private delta(job: ClaimedJob): MetricsDelta {
    const minute = Math.floor(this.now() / 60_000) * 60_000;
    // Most events in a row are of one job name and minute: skip building the key for them.
    const last = this.last;
    if (
      last !== undefined &&
      last.minute === minute &&
      last.name === job.name &&
      last.queue === job.queue
    ) {
      return last;
    }
    const key = deltaKey(minute, job.queue, job.name);
    let d = this.pending.get(key);
    if (!d) {
      d = emptyDelta(minute, job.queue, job.name);
      this.pending.set(key, d);
    }
    this.last = d;
    return d;
  }
}

function ran(d: MetricsDelta, durationMs: number): void {
  const ms = Math.max(0, Math.round(durationMs));
  d.runtimeCount++;
  d.runtimeSumMs += ms;
  if (ms > d.runtimeMaxMs) d.runtimeMaxMs = ms;
  d.buckets[bucketOf(ms)]!++;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
