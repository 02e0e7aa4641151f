import type { JobBatches, PushResult, NewJob } from '../driver.js';
import { PartialPushError } from '../bulk/partial-push-error.js';
import type { BullRedis } from './bull-redis.js';
import { bullJob } from './redis-jobs.js';

/**
 * Jobs per MULTI in a bulk dispatch (pushStream): the unit that is stored whole or not at all.
 * Small enough to keep a MULTI's memory small on both sides, large enough to keep the rate.
 */
export const STREAM_BATCH = 1000;

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

/**
 * A bulk dispatch, a MULTI per batch of STREAM_BATCH jobs (each through `push`): Redis holds a
 * MULTI's commands until EXEC (a million jobs in one took 642 MB on the server, and the client
 * as much), so a bulk dispatch is atomic per batch, not as a whole. A failure leaves the
 * batches before it stored: PartialPushError.
 */
export async function pushBatches(
  push: (jobs: NewJob[]) => Promise<PushResult[]>,
  batches: JobBatches,
  stored: (results: PushResult[]) => void | Promise<void>,
): Promise<void> {
  let done = 0;
  try {
    for await (const batch of batches(STREAM_BATCH)) {
      const results = await push(batch);
      done += batch.length;
      await stored(results);
    }
  } catch (error) {
    // Whatever failed (Redis, the source, the caller's `stored`), the batches before it stay.
    throw new PartialPushError(done, error);
  }
}
