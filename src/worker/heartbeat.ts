import type { Lease, QueueDriver } from '../queue/driver.js';
import { toError } from './executor.js';

/**
 * Renews the leases of running jobs every third of the lease, so a job may run far longer than
 * its lease yet is never claimed twice; a lease found taken is reported lost.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private beating = false;

  constructor(
    private readonly o: {
      driver: QueueDriver;
      leaseMs: number;
      leases: () => Lease[];
      onLost: (id: string) => void;
      onError: (error: Error) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(this.o.leaseMs / 3)));
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const leases = this.o.leases();
      if (leases.length === 0) return;
      const held = new Set(await this.o.driver.extend(leases, this.o.leaseMs));
      for (const l of leases) if (!held.has(l.id)) this.o.onLost(l.id);
    } catch (error) {
      this.o.onError(toError(error));
    } finally {
      this.beating = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
