import type { BullRedis } from './bull-redis.js';
import type { Fetched } from './fetch-ahead.js';

/**
 * Unlocks jobs fetched ahead that no claim took, their attempt given back (jobsmithUnclaim),
 * in one pipeline. Nothing is sent while Redis is not connected: the jobs come back through
 * their lease.
 */
export async function unclaimFetched(redis: BullRedis | undefined, items: Fetched[]) {
  if (!redis || redis.client.status !== 'ready') return;
  const tx = redis.tx('pipeline');
  for (const { held } of items) {
    const k = redis.keysOf(held.queue);
    const jobKey = k[''] + held.bullId;
    const keys = [k.active, k.prioritized, k.wait, k.stalled, k.marker, jobKey, `${jobKey}:lock`];
    tx.jobsmithUnclaim(...keys, held.token, held.bullId);
  }
  await redis.exec(tx);
}
