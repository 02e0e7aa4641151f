import type { Lease, QueueDriver } from '../queue/driver.js';
import { timerDelay } from '../util/timers.js';
import { toError } from './executor.js';

/** The first retry of a renewal that failed comes this soon, ms; each next one twice as late. */
const FIRST_RETRY_MS = 250;

/**
 * Renews the leases of running jobs every third of the lease, so a job may run far longer than
 * its lease yet is never claimed twice; a lease found taken is reported lost. A renewal that
 * fails (the storage restarting) is tried again soon, with backoff, rather than a third of a
 * lease later.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private retries = 0;
  private beating = false;
  private stopped = false;

  constructor(
    private readonly o: {
      driver: QueueDriver;
      leaseMs: number;
      leases: () => Lease[];
      onLost: (id: string) => void;
      onError: (error: Error) => void;
      /**
       * Every lease held when a beat started at `startedAt` (epoch ms) was renewed (or reported
       * lost), or none was held: each lease the worker holds now lasts at least until
       * `startedAt` + leaseMs.
       */
      onRenewed?: (startedAt: number) => void;
    },
  ) {}

  private get intervalMs(): number {
    return Math.max(100, Math.floor(this.o.leaseMs / 3));
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), timerDelay(this.intervalMs));
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    clearTimeout(this.retry);
    const startedAt = Date.now();
    try {
      const leases = this.o.leases();
      if (leases.length > 0) {
        const held = new Set(await this.o.driver.extend(leases, this.o.leaseMs));
        for (const l of leases) if (!held.has(l.id)) this.o.onLost(l.id);
      }
      this.retries = 0;
      this.o.onRenewed?.(startedAt);
    } catch (error) {
      this.o.onError(toError(error));
      if (!this.stopped) {
        const wait = Math.min(FIRST_RETRY_MS * 2 ** this.retries++, this.intervalMs);
        this.retry = setTimeout(() => void this.beat(), wait);
        this.retry.unref();
      }
    } finally {
      this.beating = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
  }
}
