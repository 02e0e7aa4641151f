import type { JobRow, JobState, QueueSizes } from '../driver.js';
import type { BullRedis } from './bull-redis.js';
import { tagsOf } from './redis-jobs.js';
import { jobRow, ROW_FIELDS } from '../admin/redis-admin.js';

/*
 * What operators read: sizes, queue names, listings, and clearing a queue. Each reads BullMQ's
 * keys of a queue with one of our scripts (redis-scripts.ts), which also tell a held job
 * from one whose lease ran out (an active job without its lock).
 *
 * Whether a delayed job is due is judged by the driver's Redis clock (RedisClock), the one
 * that wrote its score, not by the server's TIME: the estimate can run a millisecond or two
 * ahead, and a job released "at once" then read as delayed while a claim would take it.
 */

export async function queueSizes(redis: BullRedis, queues: string[]): Promise<QueueSizes[]> {
  const tx = redis.tx('pipeline');
  const now = redis.clock.now();
  for (const queue of queues) {
    tx.jobsmithSizes(...redis.stateKeys(queue), redis.keysOf(queue)[''], now);
  }
  const replies = await redis.exec(tx);
  return queues.map((queue, i) => {
    const [pending, delayed, reserved] = (replies[i] as number[]).map(Number);
    return { queue, pending: pending!, delayed: delayed!, reserved: reserved! };
  });
}

/** The queues in `registry` (every queue that ever got a job) that hold a job now. */
export async function queueNames(redis: BullRedis, registry: string): Promise<string[]> {
  const names = (await redis.up().smembers(registry)).sort();
  if (names.length === 0) return [];
  const tx = redis.tx('pipeline');
  for (const name of names) tx.exists(...redis.stateKeys(name));
  const replies = await redis.exec(tx);
  return names.filter((_, i) => Number(replies[i]) > 0);
}

/**
 * A page of a queue's jobs in run order (priority, then the order moveToActive takes them: see
 * jobsmithScan). Redis keeps no index for that across its lists and sets: the whole queue is
 * scanned (ids and priorities only, each priority's jobs in run order) and sorted by priority
 * here, then the page's jobs are read. Fine for an operator's listing; not for a loop.
 */
export async function listJobs(
  redis: BullRedis,
  queue: string,
  state: JobState | undefined,
  offset: number,
  limit: number,
  tag?: string,
): Promise<JobRow[]> {
  const k = redis.keysOf(queue);
  const scan = (await redis
    .up()
    .jobsmithScan(...redis.stateKeys(queue), k[''], state ?? '', redis.clock.now())) as string[];
  const now = Number(scan[0]);
  const found: Array<{ bullId: string; bullPriority: number; state: JobState; at: string }> = [];
  for (let i = 1; i + 3 < scan.length; i += 4) {
    found.push({
      bullId: scan[i]!,
      bullPriority: Number(scan[i + 1]),
      state: scan[i + 2] as JobState,
      at: scan[i + 3]!,
    });
  }
  // Stable: each priority's jobs stay in the run order the scan gave them.
  found.sort((a, b) => a.bullPriority - b.bullPriority);
  let candidates = found;
  if (tag !== undefined) {
    // Tags live in each job's opts: read those of the whole queue (an operator's listing).
    const tx = redis.tx('pipeline');
    for (const f of found) tx.hget(k[''] + f.bullId, 'opts');
    const opts = await redis.exec(tx);
    candidates = found.filter((_, i) => tagsOf(opts[i] as string | null)?.includes(tag));
  }
  const page = candidates.slice(offset, offset + limit);
  if (page.length === 0) return [];
  const tx = redis.tx('pipeline');
  for (const f of page) tx.hmget(k[''] + f.bullId, ...ROW_FIELDS);
  const replies = await redis.exec(tx);
  // A job finished since the scan has no hash left: it is left out.
  return page.flatMap((f, i) => {
    const row = jobRow(queue, f.bullId, f.state, f.at, replies[i] as Array<string | null>, now);
    return row ? [row] : [];
  });
}

/** Deletes the jobs of a queue that no worker holds; returns how many. */
export async function clearQueue(redis: BullRedis, queue: string): Promise<number> {
  const k = redis.keysOf(queue);
  const count = await redis.up().jobsmithClear(...redis.stateKeys(queue), k.stalled, k['']);
  return Number(count);
}
