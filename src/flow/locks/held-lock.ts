import type { JobLogger } from '../../jobs/types.js';
import { timerDelay } from '../../util/timers.js';
import type { LockStore } from './store.js';

/**
 * A lock taken by withoutOverlapping, held while the handler runs: renewed every third of its
 * lease, so that two renewals may fail (a slow round trip, a storage blip) before it runs out,
 * and released at the end. If the process dies, renewals stop and the lease runs out on its own.
 *
 * Loaded by the public entry point (through middleware.ts): types and timers only, no storage.
 */
export class HeldLock {
  private readonly timer: NodeJS.Timeout;
  private renewing?: Promise<void>;
  /** Set by release: a renewal answering after it must not be reported as a lost lease. */
  private ended = false;
  private lost = false;

  constructor(
    private readonly store: LockStore,
    private readonly key: string,
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly log: JobLogger,
    private readonly job: { name: string; id: string },
  ) {
    this.timer = setInterval(() => this.renew(), timerDelay(Math.floor(leaseMs / 3)));
    // A lock must never keep a finished process alive.
    this.timer.unref();
  }

  private renew(): void {
    this.renewing ??= this.store
      .renew(this.key, this.token, this.leaseMs)
      .then(
        (held) => {
          if (held || this.ended) return;
          this.lost = true;
          clearInterval(this.timer);
          // The handler goes on: the work it has done cannot be undone by stopping it, and a
          // middleware cannot abort ctx.signal. The operator learns that the promise broke.
          this.log.warn(
            `withoutOverlapping: ${this.job.name} (job ${this.job.id}) lost its lock "${this.key}": the lease of ${this.leaseMs}ms ran out before it was renewed (event loop blocked, or storage unreachable, for that long), so another job with the same key may be running too. Raise expireAfter if this job blocks its process.`,
            { job: this.job.name, id: this.job.id, lock: this.key },
          );
        },
        (error: unknown) => {
          // Tried again at the next tick; the lease leaves room for two more before it ends.
          if (this.ended) return;
          this.log.warn(
            `withoutOverlapping: could not renew the lock "${this.key}" of ${this.job.name} (job ${this.job.id}): ${(error as Error)?.message ?? String(error)}`,
            { job: this.job.name, id: this.job.id, lock: this.key },
          );
        },
      )
      .finally(() => {
        this.renewing = undefined;
      });
  }

  /**
   * Stops renewing and frees the lock (only if it is still ours). Never throws: a release that
   * fails is logged, and the lock then frees itself when its lease runs out.
   */
  async release(): Promise<void> {
    this.ended = true;
    clearInterval(this.timer);
    // A renewal in flight could otherwise land after the release and be taken for a lost lease.
    await this.renewing;
    if (this.lost) return;
    try {
      await this.store.release(this.key, this.token);
    } catch (error) {
      this.log.warn(
        `withoutOverlapping: could not release the lock "${this.key}" of ${this.job.name} (job ${this.job.id}); it frees itself when its lease of ${this.leaseMs}ms runs out: ${(error as Error)?.message ?? String(error)}`,
        { job: this.job.name, id: this.job.id, lock: this.key },
      );
    }
  }
}
