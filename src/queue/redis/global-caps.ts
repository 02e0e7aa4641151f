import type { ClaimOptions } from '../driver.js';
import type { BullRedis } from './bull-redis.js';

/**
 * `globalConcurrency` on Redis is BullMQ's own global concurrency: the `concurrency` field of
 * the queue's meta hash, which BullMQ's moveToActive (and moveToFinished fetching the next job)
 * checks against the length of the active list, inside the script, so no two claims can pass
 * it together. A job whose lease ran out stays in the active list until jobsmithRecover puts it
 * back (at most a stalled-check period after a claim of the queue asks), so a dead worker's
 * jobs stop counting soon after their lease ends.
 *
 * The field belongs to the queue, not to a claim: this driver writes it on its first claim of a
 * queue, and again whenever the cap it is given changes; a worker without a cap removes it. So
 * the last worker to start decides: every worker of a queue should run with the same setting.
 * A claim whose cap is unchanged sends nothing.
 */
export class GlobalCaps {
  /** Queue → the cap this driver last wrote (null: removed). */
  private readonly written = new Map<string, number | null>();

  constructor(private readonly redis: () => BullRedis) {}

  /** Whether a claim of `queues` with `options` must write a cap first. */
  stale(queues: string[], options: ClaimOptions | undefined): boolean {
    for (const queue of queues) {
      const cap = options?.globalConcurrency?.get(queue) ?? null;
      if (this.written.get(queue) !== cap) return true;
    }
    return false;
  }

  /** Writes the caps of `queues` that differ from what this driver last wrote. */
  async write(queues: string[], options: ClaimOptions | undefined): Promise<void> {
    const redis = this.redis();
    for (const queue of queues) {
      const cap = options?.globalConcurrency?.get(queue) ?? null;
      if (this.written.get(queue) === cap) continue;
      const meta = redis.keysOf(queue).meta;
      if (cap === null) await redis.up().hdel(meta, 'concurrency');
      else await redis.up().hset(meta, 'concurrency', cap);
      this.written.set(queue, cap);
    }
  }
}
