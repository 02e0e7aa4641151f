import type { ClaimedJob } from '../driver.js';
import type { Held } from './redis-jobs.js';

/** A job fetched along with a completion, locked, that no claim has taken yet. */
export interface Fetched {
  job: ClaimedJob;
  held: Held;
  /** When it arrived (Date.now()). */
  at: number;
}

/** Jobs fetched ahead are given back if no claim takes them within this long. */
const HOLD_MS = 200;

/**
 * The jobs BullMQ's moveToFinished fetched with a completion (`fetchNext`), until a claim takes
 * them; and the fetches still on their way, so that a claim waits for those instead of asking
 * Redis for the same free slot again. A job nobody takes within HOLD_MS (or a third of the
 * lease, if shorter: it must go back before its lock runs out) is given back, its attempt
 * refunded, by `giveBack`.
 */
export class FetchAhead {
  private buffer: Fetched[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly giveBack: (items: Fetched[]) => Promise<void>,
    /** The lease the jobs were locked with. */
    private readonly leaseMs: () => number,
  ) {}

  /** Jobs here. */
  get size(): number {
    return this.buffer.length;
  }

  /** Whether a job of one of `queues` is here. */
  has(queues: string[]): boolean {
    return this.buffer.some((f) => queues.includes(f.held.queue));
  }

  /** Fetches of `queue` still on their way. */
  coming(queue: string): number {
    return this.inFlight.get(queue) ?? 0;
  }

  /** Takes up to `max` jobs of `queue`, oldest first. */
  take(queue: string, max: number): ClaimedJob[] {
    const taken: ClaimedJob[] = [];
    if (max <= 0 || this.buffer.length === 0) return taken;
    // The usual case, once per job: one job, of the queue asked for.
    if (this.buffer.length === 1 && this.buffer[0]!.held.queue === queue) {
      taken.push(this.buffer.pop()!.job);
      return taken;
    }
    this.buffer = this.buffer.filter((f) => {
      if (f.held.queue !== queue || taken.length >= max) return true;
      taken.push(f.job);
      return false;
    });
    return taken;
  }

  /** Counts a fetch sent for `queue`; call the returned function with what arrived. */
  expect(queue: string): (arrived?: { job: ClaimedJob; held: Held }) => void {
    this.inFlight.set(queue, this.coming(queue) + 1);
    return (arrived) => {
      this.inFlight.set(queue, this.coming(queue) - 1);
      if (arrived) {
        this.buffer.push({ job: arrived.job, held: arrived.held, at: Date.now() });
        this.schedule();
      }
      if (this.waiters.size > 0) for (const wake of [...this.waiters]) wake();
    };
  }

  /**
   * Resolves when a fetch on its way arrives, after `timeoutMs`, or when `signal` aborts. A
   * fetch cut off by a lost connection waits for the reconnect: hence the bound.
   */
  arrival(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
      this.waiters.add(done);
    });
  }

  /** Gives back every job here (or those that arrived before `olderThan`). */
  async release(olderThan = Infinity): Promise<void> {
    const items = this.buffer.filter((f) => f.at < olderThan);
    if (items.length === 0) return;
    this.buffer = this.buffer.filter((f) => f.at >= olderThan);
    await this.giveBack(items);
  }

  private schedule(): void {
    if (this.timer || this.buffer.length === 0) return;
    const hold = Math.min(HOLD_MS, this.leaseMs() / 3);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.release(Date.now() - hold)
        .catch(() => {})
        .finally(() => this.schedule());
    }, hold);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const wake of [...this.waiters]) wake();
  }
}
