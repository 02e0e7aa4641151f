import type { Knex } from 'knex';
import type { FailedJobRecord, Lease, ReleaseOptions } from '../driver.js';
import { failedJobRow } from '../../failed/record.js';
import { wholeMs } from '../../util/whole.js';
import { storableError, storableRecord } from '../storable.js';
import type { BullRedis } from './bull-redis.js';
import { insertFailedOnce } from './failed-row.js';
import type { HeldLeases } from './held-leases.js';
import { RELEASED_FIELDS } from './lease-scripts.js';
import { isLost, parseId, READY_FIELD, uniqueWindowOf, type Held } from './redis-jobs.js';
import { moveToDelayedArgs, moveToFinishedArgs } from './redis-scripts.js';

/*
 * Settling one held job on Redis, under its lock (the claim's token), for the RedisQueue's
 * delegations: markAlone, release (BullMQ's moveToDelayed) and fail (a failed_jobs row, then
 * moveToFinished). Completions stay in the driver: they fetch the next job along, which is the
 * driver's claim state (redis-queue.ts).
 */

/** BullMQ's moveToFinished for a held job; with a unique key, in a MULTI that frees it. */
export async function finishHeld(redis: BullRedis, held: Held, args: unknown[]): Promise<unknown> {
  if (!held.deid) return redis.send('moveToFinished', args);
  const k = redis.keysOf(held.queue);
  const tx = redis.tx('multi');
  redis.run(tx, 'moveToFinished', args);
  tx.jobsmithFreeUnique(`${k.de}:${held.deid}`, k[''] + held.bullId, held.bullId);
  return (await redis.exec(tx))[0];
}

export async function markJobAlone(redis: BullRedis, lease: Lease): Promise<boolean> {
  await redis.reconnected();
  const ref = parseId(lease.id);
  if (!ref) return false;
  const jobKey = redis.keysOf(ref.queue)[''] + ref.bullId;
  const [marked] = await redis.all([
    redis.up().jobsmithMarkAlone(`${jobKey}:lock`, jobKey, lease.token) as Promise<unknown>,
  ]);
  return Number(marked) === 1;
}

export async function releaseHeld(
  redis: BullRedis,
  heldLeases: HeldLeases,
  lease: Lease,
  options: ReleaseOptions,
): Promise<boolean> {
  await redis.reconnected();
  const held = await heldLeases.of(lease);
  heldLeases.forget(lease);
  if (!held) return false;
  // BullMQ counts an attempt when a job is moved to active (attemptsStarted); a refund sets
  // it back, under the lock, so RetryAfter never spends one.
  const fields: Record<string, string | number> = {
    failedReason: storableError(options.error) ?? '',
    // The next claim is an ordinary one, whatever this one was.
    ...RELEASED_FIELDS,
  };
  if (options.refundAttempt) fields.ats = held.ats - 1;
  const now = redis.clock.now();
  fields[READY_FIELD] = now + Math.max(0, wholeMs(options.delayMs));
  const args = moveToDelayedArgs(
    redis.keysOf(held.queue),
    held.bullId,
    now,
    lease.token,
    Math.max(0, wholeMs(options.delayMs)),
    Boolean(options.refundAttempt),
    fields,
  );
  const [reply] = await redis.all([redis.send('moveToDelayed', args)]);
  return !isLost(reply);
}

/** Whether Redis still has the job's hash (a finished job's is removed: keepJobs 0). */
async function jobStillStored(redis: BullRedis, held: { queue: string; bullId: string }) {
  return (await redis.up().exists(redis.keysOf(held.queue)[''] + held.bullId)) === 1;
}

/**
 * Writes the failed_jobs row first, then removes the job from Redis under its lock. If the
 * lock was lost and the job is still in Redis, the row is deleted again and nothing changed. A crash between the two leaves
 * the row and the job: the job comes back through its lease and may be recorded twice (at
 * least once), but never lost.
 */
export async function failHeld(
  redis: BullRedis,
  heldLeases: HeldLeases,
  sql: () => Promise<Knex>,
  lease: Lease,
  given: FailedJobRecord,
): Promise<boolean> {
  const record = { ...storableRecord(given) };
  await redis.reconnected();
  const held = await heldLeases.of(lease);
  if (!held) return false;
  const knex = await sql();
  if (held.deid) {
    // Read only for unique jobs, and only when one fails: claims stay one round trip.
    const opts = await redis.up().hget(redis.keysOf(held.queue)[''] + held.bullId, 'opts');
    record.unique = { key: held.deid, forMs: uniqueWindowOf(opts) };
  }
  await insertFailedOnce(knex, failedJobRow(record, redis.clock.now()));
  const args = moveToFinishedArgs(redis.keysOf(held.queue), held.bullId, redis.clock.now(), {
    target: 'failed',
    value: record.exception.split('\n')[0] ?? '',
    token: lease.token,
    maxTries: held.maxTries,
  });
  const [reply] = await redis.all([finishHeld(redis, held, args)]);
  heldLeases.forget(lease);
  if (isLost(reply) && (await jobStillStored(redis, held))) {
    // The lease was lost and the job lives on (another worker runs it): not ours to record.
    await knex('failed_jobs').where({ uuid: record.uuid }).delete();
    return false;
  }
  // A "lost" answer for a job Redis no longer has is this fail() asked again after the answer
  // to its first move was lost on the way back: the move happened, and the row is the only
  // record of the failure left, so it stays (test/redis.lost-reply.test.ts).
  return true;
}
