import type { PushResult, NewJob } from '../driver.js';
import type { BullRedis } from './bull-redis.js';
import { bullJob } from './redis-jobs.js';

/**
 * Adds jobs (storable and checked: src/queue/storable.ts, checkJob) with BullMQ's addJob, all in
 * one MULTI, so they are stored all or none; a single plain job goes without one. `registry` is
 * the set of queue names that ever got a job.
 */
export async function pushJobs(
  redis: BullRedis,
  registry: string,
  jobs: NewJob[],
): Promise<PushResult[]> {
  const client = redis.up();
  const now = redis.clock.now();
  const queues = [...new Set(jobs.map((j) => j.queue))];
  const [first] = jobs;
  if (jobs.length === 1 && !first!.unique) {
    // One plain job needs no transaction; building a MULTI costs more than sending the job.
    const k = redis.keysOf(first!.queue);
    const [, id] = await redis.all(
      redis.burst(2, () => [
        client.sadd(registry, ...queues),
        redis.addJob(undefined, bullJob(first!, now), k),
      ]),
    );
    return [{ id: `${first!.queue}:${String(id)}`, deduplicated: false }];
  }
  const tx = redis.tx('multi');
  tx.sadd(registry, ...queues);
  const adds: Array<Promise<unknown>> = [];
  for (const job of jobs) {
    const k = redis.keysOf(job.queue);
    adds.push(redis.addJob(tx, bullJob(job, now), k));
    // A new job's id is the counter addJob just incremented; a deduplicated one gets the
    // id of the job that holds the key.
    if (job.unique) tx.get(k.id);
  }
  try {
    await Promise.all(adds);
  } catch (error) {
    tx.discard();
    throw error;
  }
  const replies = await redis.exec(tx);
  const results: PushResult[] = [];
  let i = 1;
  for (const job of jobs) {
    const bullId = String(replies[i++]);
    const counter = job.unique ? String(replies[i++]) : bullId;
    results.push({ id: `${job.queue}:${bullId}`, deduplicated: bullId !== counter });
  }
  return results;
}
