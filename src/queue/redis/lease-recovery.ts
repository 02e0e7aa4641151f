import type { BullRedis } from './bull-redis.js';
import { nextCheckIn, recoverArgs } from './lease-scripts.js';

/**
 * When this driver next checks a queue for jobs whose lease ran out, and the check itself (our
 * jobsmithRecover script, lease-scripts.ts). Every process shares one schedule per queue
 * through the script's own key; this one remembers when its turn comes, so a claim does not
 * send the script each time.
 */
export class LeaseRecovery {
  /** Queue → when (Date.now()) its jobs may next be checked. */
  private readonly nextCheck = new Map<string, number>();

  constructor(
    private readonly redis: () => BullRedis,
    /** How often, at most, a queue is checked, ms. */
    private readonly everyMs: number,
  ) {}

  /** Whether a check of `queue` is due; if so, the next one is scheduled a period from now. */
  due(queue: string): boolean {
    const now = Date.now();
    if (now < (this.nextCheck.get(queue) ?? 0)) return false;
    this.nextCheck.set(queue, now + this.everyMs);
    return true;
  }

  /** Puts back the jobs of `queue` whose lease ran out; resolves with the script's reply. */
  async recover(queue: string): Promise<unknown> {
    const redis = this.redis();
    const reply: unknown = await redis
      .up()
      .jobsmithRecover(...recoverArgs(redis.keysOf(queue), this.everyMs));
    // Another process checked the queue a moment ago: ask again when its turn ends, not a
    // whole period after ours, so that a lost lease waits at most one period in all.
    this.nextCheck.set(queue, Date.now() + nextCheckIn(reply, this.everyMs));
    return reply;
  }
}
