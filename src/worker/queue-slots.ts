import type { QueuePolicy } from '../config/queue-policies.js';
import type { ClaimedJob, ClaimOptions } from '../queue/driver.js';
import type { Interruptible } from './executor.js';

/** A job whose handler runs; `interrupt` (set by execute) abandons it: lease lost, or grace over. */
export interface Running extends Interruptible {
  job: ClaimedJob;
  startedAt: number;
  done: Promise<void>;
}

/** What a worker needs to know to cap its queues (WorkerOptions). */
export interface SlotOptions {
  queues: string[];
  concurrency: number;
  queuePolicies?: ReadonlyMap<string, QueuePolicy>;
}

/** The caps one worker keeps, as its start-up line shows them. */
export interface WorkerCaps {
  /** Queue → the most of its jobs this worker runs at once (a worker of several queues). */
  perQueue?: Record<string, number>;
  /** Queue → the most of its jobs running at once across every worker. */
  globalConcurrency?: Record<string, number>;
}

/**
 * The jobs a worker runs, by id, and the caps of its queues (docs/concurrency.md):
 *
 * - in a worker of several queues, a queue's `concurrency` caps its jobs within the worker's
 *   total; the worker counts its running jobs per queue, claims only from queues with a free
 *   slot, and tells the claim how many each may give (ClaimOptions.perQueue), so it never
 *   claims a job it cannot start;
 * - a queue's `globalConcurrency` goes with every claim (ClaimOptions.globalConcurrency), for the
 *   driver to enforce across workers.
 *
 * A worker without caps counts nothing per queue and passes no claim options: its claims cost
 * what they did before caps existed.
 */
export class QueueSlots {
  private readonly byId = new Map<string, Running>();
  /** Queue → its cap in this worker, for the queues that have one below the worker's total. */
  private readonly caps = new Map<string, number>();
  /** Queue → jobs running now; kept only when `caps` has any. */
  private readonly perQueue = new Map<string, number>();
  /** The global caps, the same for every claim. */
  private readonly global?: ReadonlyMap<string, number>;
  private readonly cappedQueues: ReadonlySet<string>;
  /** The claim options when only global caps apply: made once. */
  private readonly fixed?: ClaimOptions;

  constructor(o: SlotOptions) {
    const global = new Map<string, number>();
    for (const queue of o.queues) {
      const policy = o.queuePolicies?.get(queue);
      // A worker of one queue runs --concurrency of it: the flag wins over the queue's setting.
      const cap = o.queues.length > 1 ? policy?.concurrency : undefined;
      if (cap !== undefined && cap < o.concurrency) this.caps.set(queue, cap);
      if (policy?.globalConcurrency !== undefined) global.set(queue, policy.globalConcurrency);
    }
    if (global.size > 0) this.global = global;
    this.cappedQueues = new Set(global.keys());
    if (this.caps.size === 0 && this.global) this.fixed = { globalConcurrency: this.global };
  }

  /** The queues of this worker with a global cap. */
  get capped(): ReadonlySet<string> {
    return this.cappedQueues;
  }

  /** Whether a queue of this worker has a global cap (prefetching would hold its slots). */
  get capsGlobally(): boolean {
    return this.global !== undefined;
  }

  /** The caps, for the worker:started event; undefined when there are none. */
  describe(): WorkerCaps | undefined {
    if (this.caps.size === 0 && !this.global) return undefined;
    return {
      ...(this.caps.size > 0 && { perQueue: Object.fromEntries(this.caps) }),
      ...(this.global && { globalConcurrency: Object.fromEntries(this.global) }),
    };
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Running | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<Running> {
    return this.byId.values();
  }

  set(id: string, running: Running): void {
    this.byId.set(id, running);
    if (this.caps.size > 0) this.count(running.job.queue, 1);
  }

  delete(id: string): boolean {
    const running = this.byId.get(id);
    if (!running) return false;
    this.byId.delete(id);
    if (this.caps.size > 0) this.count(running.job.queue, -1);
    return true;
  }

  /** `queues` less those whose every slot in this worker is taken (the same array if none is). */
  open(queues: string[]): string[] {
    if (this.caps.size === 0) return queues;
    return queues.filter((q) => this.free(q) > 0);
  }

  /** The options of a claim from the open queues, or undefined when nothing caps it. */
  claimOptions(): ClaimOptions | undefined {
    if (this.caps.size === 0) return this.fixed;
    const perQueue = new Map<string, number>();
    for (const queue of this.caps.keys()) perQueue.set(queue, this.free(queue));
    return { perQueue, ...(this.global && { globalConcurrency: this.global }) };
  }

  private free(queue: string): number {
    const cap = this.caps.get(queue);
    return cap === undefined ? Infinity : cap - (this.perQueue.get(queue) ?? 0);
  }

  private count(queue: string, by: number): void {
    this.perQueue.set(queue, (this.perQueue.get(queue) ?? 0) + by);
  }
}
