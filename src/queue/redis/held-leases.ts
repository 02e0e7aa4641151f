import type { Lease } from '../driver.js';
import type { BullRedis } from './bull-redis.js';
import { maxTriesOf, parseId, type Held } from './redis-jobs.js';

/**
 * What the redis driver knows of the jobs it holds: remembered from their claim (by id, under
 * the claim's token), or read back from Redis for a lease this process did not claim.
 */
export class HeldLeases {
  private readonly byId = new Map<string, Held>();

  constructor(private readonly redis: () => BullRedis) {}

  set(id: string, held: Held): void {
    this.byId.set(id, held);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** Drops what is remembered of a lease, if it is still this lease's. */
  forget(lease: Lease): void {
    if (this.byId.get(lease.id)?.token === lease.token) this.byId.delete(lease.id);
  }

  /** What is remembered of a lease's job from its claim. */
  known(lease: Lease): Held | undefined {
    const held = this.byId.get(lease.id);
    return held && held.token === lease.token ? held : undefined;
  }

  /** What we know of a lease's job: remembered from the claim, or read back (another process's). */
  async of(lease: Lease): Promise<Held | undefined> {
    const known = this.known(lease);
    if (known) return known;
    const ref = parseId(lease.id);
    if (!ref) return undefined;
    const redis = this.redis();
    const jobKey = redis.keysOf(ref.queue)[''] + ref.bullId;
    const [ats, deid, opts] = await redis.up().hmget(jobKey, 'ats', 'deid', 'opts');
    if (ats == null) return undefined;
    return {
      ...ref,
      token: lease.token,
      ats: Number(ats),
      maxTries: maxTriesOf(opts),
      deid: deid ?? undefined,
    };
  }
}
