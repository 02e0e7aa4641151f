import type { Knex } from 'knex';
import type { FailedJobRecord, Lease, ReleaseOptions } from '../driver.js';
import { failedJobRow } from '../../failed/record.js';
import { wholeMs } from '../../util/whole.js';
import { storableError, storableRecord } from '../storable.js';
import type { BullRedis } from './bull-redis.js';
import { insertFailedOnce } from './failed-row.js';
import { FAIL_CLAIM_TTL_MS, failClaim } from './fail-scripts.js';
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

/**
 * Claims the failure (fail-scripts.ts), writes the failed_jobs row, then removes the job from
 * Redis under its lock. A lease lost before the claim writes nothing. A crash between the row and
 * the move leaves both: the job comes back through its lease and may be recorded twice (at least
 * once), but never lost. The answer to the move lost after Redis ran it is told apart from a lost
 * lease by the claim, so the row, then the only record of the failure, stays
 * (test/redis.lost-reply.test.ts).
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
  const jobKey = redis.keysOf(held.queue)[''] + held.bullId;
  const claimKey = `${jobKey}:jsfail`;
  const claimed = Number(
    await redis
      .up()
      .jobsmithClaimFailure(
        `${jobKey}:lock`,
        claimKey,
        jobKey,
        lease.token,
        record.uuid,
        FAIL_CLAIM_TTL_MS,
      ),
  );
  if (claimed === 0) {
    heldLeases.forget(lease);
    return false;
  }
  if (held.deid && claimed === 1) {
    // Read only for unique jobs, and only when one fails: claims stay one round trip.
    const opts = await redis.up().hget(jobKey, 'opts');
    record.unique = { key: held.deid, forMs: uniqueWindowOf(opts) };
  }
  try {
    await insertFailedOnce(knex, failedJobRow(record, redis.clock.now()));
  } catch (error) {
    if (claimed === 1)
      await Promise.resolve(
        redis.up().jobsmithDropFailureClaim(claimKey, failClaim(lease.token, record.uuid)),
      ).catch(() => {});
    throw error;
  }
  if (claimed === 2) {
    heldLeases.forget(lease);
    return true;
  }
  const args = moveToFinishedArgs(redis.keysOf(held.queue), held.bullId, redis.clock.now(), {
    target: 'failed',
    value: record.exception.split('\n')[0] ?? '',
    token: lease.token,
    maxTries: held.maxTries,
  });
  const [reply] = await redis.all([finishHeld(redis, held, args)]);
  heldLeases.forget(lease);
  if (!isLost(reply)) return true;
  const ours =
    (await redis.up().get(claimKey)) === failClaim(lease.token, record.uuid) &&
    (await redis.up().exists(jobKey)) === 0;
  if (ours) return true;
  await knex('failed_jobs').where({ uuid: record.uuid }).delete();
  return false;
}
