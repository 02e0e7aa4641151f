import type { Lease, QueueDriver } from '../queue/driver.js';

/**
 * What a completion resolves to: whether the lease still held, or, for a batched completion,
 * the ids of every job of its batch whose lease held (look the job up in it).
 */
export type Completion = boolean | ReadonlySet<string>;

/** Whether the completion of `id` went through. */
export function completed(result: Completion, id: string): boolean {
  return typeof result === 'boolean' ? result : result.has(id);
}

/**
 * Collects the completions of jobs that finish in the same tick and settles them in one
 * driver call (one transaction), which is most of the throughput at high concurrency on SQL.
 * Every caller of one batch gets the same promise, of the batch's completed ids: no promise,
 * resolver or record per job.
 */
export class CompletionBatcher {
  private batch: Lease[] = [];
  private settled?: Promise<ReadonlySet<string>>;
  private resolve!: (done: ReadonlySet<string>) => void;
  private reject!: (error: unknown) => void;

  constructor(private readonly driver: QueueDriver) {}

  complete(lease: Lease): Promise<Completion> {
    // A pipelining driver sends at once: waiting a tick to batch would only leave the storage
    // idle while the worker gathers completions, then the worker idle while it runs them.
    if (this.driver.completeEach) return this.driver.completeEach([lease])[0]!;
    this.batch.push(lease);
    if (!this.settled) {
      this.settled = new Promise((resolve, reject) => {
        this.resolve = resolve;
        this.reject = reject;
      });
      setImmediate(() => void this.flush());
    }
    return this.settled;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    const { resolve, reject } = this;
    this.batch = [];
    this.settled = undefined;
    try {
      resolve(new Set(await this.driver.complete(batch)));
    } catch (error) {
      reject(error);
    }
  }
}

/**
 * Whether a completed job's slot frees before its completion is written, so the next job
 * starts, or is claimed, meanwhile. With prefetch, on any driver. Without, on the database
 * driver only: there the next claim is a round trip of its own and overlapping the two nearly
 * doubles the rate at concurrency 1, whereas the redis driver fetches the next job with the
 * completion itself. Never with --once or --max-jobs, which count settled jobs; and at most
 * as many completions in flight as jobs held (concurrency + prefetch): a slow storage holds
 * the worker back rather than pile up jobs that ran but are not recorded, and a buffer's last
 * job does not wait for the buffer's completions before the next claim.
 */
export function settlesBehind(
  ahead: number,
  claimsWhileSettling: boolean,
  settling: number,
  concurrency: number,
): boolean {
  return (ahead > 0 || claimsWhileSettling) && settling < concurrency + ahead;
}
