import { randomUUID } from 'node:crypto';
import type { Database } from '../db/connection.js';
import { timerDelay } from '../util/timers.js';
import { acquireLease, leaseHolder, releaseLease, renewLease, type LeaseHolder } from './store.js';

/**
 * An entry's overlap lease (withoutOverlapping), held while the entry runs: renewed every third
 * of its length, released at the end. If the process dies, renewals stop and the lease expires
 * within one length, so the next slot runs again.
 */
export class OverlapLease {
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private lost = false;

  private constructor(
    private readonly db: Database,
    readonly entry: string,
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly onLost: () => void,
  ) {}

  /** Takes the lease, or says who holds it. */
  static async acquire(
    db: Database,
    entry: string,
    owner: string,
    leaseMs: number,
    onLost: () => void = () => {},
  ): Promise<{ lease: OverlapLease } | { heldBy: LeaseHolder | undefined }> {
    const token = randomUUID();
    if (await acquireLease(db, entry, owner, token, leaseMs)) {
      const lease = new OverlapLease(db, entry, token, leaseMs, onLost);
      lease.start();
      return { lease };
    }
    // The holder may have released between the two reads; then it shows as undefined.
    return { heldBy: await leaseHolder(db, entry) };
  }

  private start(): void {
    // Bounded like every timer (the config refuses a lease past MAX_TIMER_MS; this holds anyway).
    const every = timerDelay(Math.max(250, Math.floor(this.leaseMs / 3)));
    this.timer = setInterval(() => {
      this.renewing ??= renewLease(this.db, this.entry, this.token, this.leaseMs)
        .then((held) => {
          if (!held && !this.lost) {
            this.lost = true;
            this.onLost();
          }
        })
        // A failed renewal (database restarting) is retried on the next tick; the lease
        // length leaves two more tries before it runs out.
        .catch(() => {})
        .finally(() => {
          this.renewing = undefined;
        });
    }, every);
    // A lease must never keep a finished process alive.
    this.timer.unref();
  }

  /** Stops renewing and frees the lease (only if it is still ours). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    await releaseLease(this.db, this.entry, this.token);
  }
}
