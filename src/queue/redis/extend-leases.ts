import type { Lease } from '../driver.js';
import { wholeMs } from '../../util/whole.js';
import type { BullRedis } from './bull-redis.js';
import { parseId } from './redis-jobs.js';
import { extendLocksArgs } from './redis-scripts.js';

/**
 * Renews the locks of held jobs (the worker's heartbeat): one extendLocks call per queue, all in
 * one write. Returns the ids whose token still held; the others' leases were lost.
 */
export async function extendLeases(
  redis: BullRedis,
  leases: Lease[],
  leaseMs: number,
): Promise<string[]> {
  await redis.reconnected();
  const byQueue = new Map<string, Array<{ lease: Lease; bullId: string }>>();
  for (const lease of leases) {
    const ref = parseId(lease.id);
    if (!ref) continue;
    byQueue.set(ref.queue, [...(byQueue.get(ref.queue) ?? []), { lease, bullId: ref.bullId }]);
  }
  if (byQueue.size === 0) return [];
  const replies = await redis.all(
    redis.burst(byQueue.size, () =>
      [...byQueue].map(([queue, items]) => {
        const ids = items.map((i) => i.bullId);
        const tokens = items.map((i) => i.lease.token);
        return redis.send(
          'extendLocks',
          extendLocksArgs(redis.keysOf(queue), ids, tokens, wholeMs(leaseMs)),
        );
      }),
    ),
  );
  const held: string[] = [];
  [...byQueue].forEach(([, items], i) => {
    const lost = new Set((replies[i] as string[]).map(String));
    for (const item of items) if (!lost.has(item.bullId)) held.push(item.lease.id);
  });
  return held;
}
