import { UsageError } from '../errors.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import { JobBuffer } from './job-buffer.js';

export interface PrefetchOptions {
  driver: QueueDriver;
  concurrency: number;
  /** Jobs claimed beyond the free slots (WorkerOptions.prefetch); 0 when prefetch is off. */
  ahead: number;
  leaseMs: number;
  /** Jobs running now, which count against concurrency + ahead. */
  running(): number;
  /** A refill's claim failed (the storage is down): reported, not thrown. */
  onError(error: unknown): void;
  /** A refill ended, with jobs or without: the worker's loop may be waiting for it. */
  onRefilled(): void;
}

/**
 * The jobs a worker claimed ahead of its free slots (WorkerOptions.prefetch), and the claims
 * that top them up. Once half of them have started, it claims what brings the buffer back to
 * `ahead` in the background, so the worker does not stop for a claim's round trip every
 * `ahead` jobs; one such claim at a time, and never more held than concurrency + ahead.
 */
export class Prefetch {
  private readonly buffer = new JobBuffer();
  /** The refill on its way, if any. */
  private refill?: Promise<void>;
  /**
   * The last refill came back short (the queue is nearly empty) or failed: no more refills
   * until the buffer is empty and the worker claims itself (with its backoff, after a failure,
   * rather than one failing claim per job started while the storage is down).
   */
  private short = false;
  /** A refill's claim the storage refused outright (a queue name it cannot hold). */
  private refused?: UsageError;

  constructor(private readonly o: PrefetchOptions) {}

  get size(): number {
    return this.buffer.size;
  }

  peek(): ClaimedJob | undefined {
    return this.buffer.peek();
  }

  /** The jobs held, for lease renewals. */
  held(): ClaimedJob[] {
    return this.buffer.toArray();
  }

  /** Drops a job whose lease was lost. */
  lose(id: string): void {
    this.buffer.remove(id);
  }

  /** Up to `n` jobs to start; throws what the storage refused in a refill. */
  take(n: number): ClaimedJob[] {
    if (this.refused) throw this.refused;
    return this.buffer.take(n);
  }

  /** The refill on its way, for a worker whose buffer ran dry before it came back. */
  get refilling(): Promise<void> | undefined {
    return this.refill;
  }

  /** Keeps the jobs the worker's own claim took beyond its free slots. */
  fill(jobs: ClaimedJob[]): void {
    this.buffer.push(jobs);
    this.short = false;
  }

  /** Starts a refill if half of the buffer has started and none is on its way. */
  topUp(queues: string[]): void {
    const o = this.o;
    if (o.ahead === 0 || this.refill || this.short || this.buffer.size > o.ahead / 2) return;
    const want = o.concurrency + o.ahead - o.running() - this.buffer.size;
    if (want <= 0) return;
    this.refill = o.driver
      .claim(queues, want, o.leaseMs)
      .then(
        (jobs) => {
          this.buffer.push(jobs);
          this.short = jobs.length < want;
        },
        (error: unknown) => {
          this.short = true;
          if (error instanceof UsageError) this.refused = error;
          else o.onError(error);
        },
      )
      .finally(() => {
        this.refill = undefined;
        o.onRefilled();
      });
  }

  /** Every job held, removed, once a refill on its way has landed. */
  async drain(): Promise<ClaimedJob[]> {
    await this.refill;
    return this.buffer.drain();
  }
}
