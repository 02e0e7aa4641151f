import type { Lease, QueueDriver } from '../queue/driver.js';

/**
 * Collects the completions of jobs that finish in the same tick and settles them in one
 * driver call (one transaction), which is most of the throughput at high concurrency on SQL.
 * Resolves each caller with whether its lease still held.
 */
export class CompletionBatcher {
  private pending: Array<{
    lease: Lease;
    resolve: (ok: boolean) => void;
    reject: (e: unknown) => void;
  }> = [];
  private scheduled = false;

  constructor(private readonly driver: QueueDriver) {}

  complete(lease: Lease): Promise<boolean> {
    // A pipelining driver sends at once: waiting a tick to batch would only leave the storage
    // idle while the worker gathers completions, then the worker idle while it runs them.
    if (this.driver.completeEach) return this.driver.completeEach([lease])[0]!;
    return new Promise((resolve, reject) => {
      this.pending.push({ lease, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const done = new Set(await this.driver.complete(batch.map((b) => b.lease)));
      for (const b of batch) b.resolve(done.has(b.lease.id));
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }
}
