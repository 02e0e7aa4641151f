import { randomUUID } from 'node:crypto';
import type { ClaimedJob } from '../driver.js';
import type { BullRedis } from './bull-redis.js';
import type { HeldLeases } from './held-leases.js';
import type { LeaseRecovery } from './lease-recovery.js';
import type { MarkerWait } from './marker-wait.js';
import { claimedFrom } from './redis-jobs.js';
import { moveToActiveArgs } from './redis-scripts.js';

/**
 * Claims the ready jobs of one queue straight from Redis, with BullMQ's moveToActive, several
 * sent together: as many as the queue had ready last time, then as many as it reports ready now
 * (LLEN and ZCARD go with them when more than one job is wanted). The driver's other source of
 * jobs is the completions that fetch the next one along (fetch-ahead.ts); it decides which to
 * ask (redis-queue.ts, claim).
 */
export class ReadyClaims {
  /** Ready jobs per queue at the last claim: how many to ask for at once next time. */
  private readonly readyHint = new Map<string, number>();

  constructor(
    private readonly redis: () => BullRedis,
    /** Sent before the claim when due, so a job whose lease expired is claimable in it. */
    private readonly recovery: LeaseRecovery,
    /** Told when the next delayed job of a queue is due, so an idle wait wakes for it. */
    private readonly markers: MarkerWait,
    /** Where each claimed job is remembered, to settle it without reading it back. */
    private readonly held: HeldLeases,
  ) {}

  /** Claims up to `want` jobs of `queue`, appended to `into`. */
  async claim(queue: string, want: number, leaseMs: number, into: ClaimedJob[]): Promise<void> {
    const redis = this.redis();
    const k = redis.keysOf(queue);
    let batch = Math.min(want, Math.max(1, this.readyHint.get(queue) ?? 1));
    for (let round = 0; round < 3 && want > 0; round++) {
      const client = redis.up();
      const now = redis.clock.now();
      const recover = round === 0 && this.recovery.due(queue);
      const counted = want > 1;
      const base = randomUUID();
      const count = (recover ? 1 : 0) + batch + (counted ? 2 : 0);
      const replies = await redis.all(
        redis.burst(count, () => {
          const calls: Array<Promise<unknown>> = [];
          // Before claiming: a job whose lease expired goes back, claimable below (commands
          // on one connection run in the order sent).
          if (recover) calls.push(this.recovery.recover(queue));
          for (let i = 0; i < batch; i++)
            calls.push(
              redis.send('moveToActive', moveToActiveArgs(k, now, `${base}:${i}`, leaseMs)),
            );
          if (counted) calls.push(client.llen(k.wait), client.zcard(k.prioritized));
          return calls;
        }),
      );
      let at = recover ? 1 : 0;
      let got = 0;
      for (let i = 0; i < batch; i++) {
        const reply = replies[at++];
        // No job: moveToActive answers {0, 0, 0, next delayed job's due time (ms) or 0}.
        const nextDue = Array.isArray(reply) && reply[0] === 0 ? Number(reply[3]) : 0;
        if (nextDue > 0) this.markers.expect(k.marker, nextDue);
        const claimed = claimedFrom(queue, reply, `${base}:${i}`);
        if (claimed) {
          this.held.set(claimed.job.id, claimed.held);
          into.push(claimed.job);
          got++;
        }
      }
      want -= got;
      if (!counted) return;
      const ready = Number(replies[at]) + Number(replies[at + 1]);
      this.readyHint.set(queue, ready);
      if (got < batch || ready === 0) return;
      batch = Math.min(want, ready);
    }
  }
}
