import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import { JobCancelledError } from './errors.js';

/** A running job as the watch sees it: `cancel` is set while its handler runs (executor.ts). */
export interface Cancellable {
  job: ClaimedJob;
  cancel?: (error: JobCancelledError) => void;
}

/**
 * Asks the driver, once per poll, for cancel requests of the jobs the worker is running, and
 * cancels those that have one: their signal aborts with a JobCancelledError, and they end
 * cancelled when their handler does. The worker runs `poll` on its control poller's tick
 * (about once a second), not a timer of its own; a worker running nothing asks nothing.
 */
export class CancelWatch {
  private polling = false;

  constructor(
    private readonly driver: QueueDriver,
    private readonly running: () => Iterable<Cancellable>,
  ) {}

  async poll(): Promise<void> {
    if (this.polling) return; // the last one is still waiting for the storage
    const byId = new Map<string, Cancellable>();
    for (const r of this.running()) if (r.cancel) byId.set(r.job.id, r);
    if (byId.size === 0) return;
    this.polling = true;
    try {
      for (const { id, reason } of await this.driver.cancelRequests([...byId.keys()])) {
        const r = byId.get(id);
        r?.cancel?.(new JobCancelledError(id, r.job.name, reason));
      }
    } finally {
      this.polling = false;
    }
  }
}
