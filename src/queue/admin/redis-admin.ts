import type { JobRow, JobState, Lease } from '../driver.js';
import type { BullRedis } from '../redis/bull-redis.js';
import { maxTriesOf, parseId, READY_FIELD, tagsOf } from '../redis/redis-jobs.js';
import { fromBullPriority } from '../redis/redis-scripts.js';
import { readProgress } from '../database/rows.js';

/*
 * Live-job operations on Redis (find, promote, remove, progress), for the RedisQueue's one-line
 * delegations. A job id is `<queue>:<BullMQ id>`; an id that is not one, or names a queue that
 * is not valid on Redis, matches no job. Scripts: redis-admin-scripts.ts.
 */

/** The job-hash fields a JobRow is made of, in the order `jobRow` reads them. */
export const ROW_FIELDS = [
  'name',
  'data',
  'opts',
  'timestamp',
  'ats',
  'failedReason',
  'progress',
  'priority',
] as const;

/** A job hash's ROW_FIELDS (HMGET's reply) as a JobRow; null when the hash is gone. */
export function jobRow(
  queue: string,
  bullId: string,
  state: JobState,
  at: string,
  fields: Array<string | null>,
  now: number,
): JobRow | null {
  const [name, data, opts, timestamp, ats, failedReason, progress, priority] = fields;
  if (name == null) return null;
  const createdAt = Number(timestamp ?? now);
  return {
    id: `${queue}:${bullId}`,
    name,
    queue,
    state,
    priority: fromBullPriority(Number(priority ?? 0)),
    attempts: Number(ats ?? 0),
    maxTries: maxTriesOf(opts),
    availableAt: at === '' ? createdAt : Number(at),
    createdAt,
    lastError: failedReason || null,
    payload: data ?? '',
    tags: tagsOf(opts) ?? [],
    progress: readProgress(progress),
  };
}

/** Valid on Redis: `<queue>:<digits>` with a queue name Redis can hold. */
function refOf(redis: BullRedis, id: string): { queue: string; bullId: string } | undefined {
  const ref = parseId(id);
  if (!ref || !/^[0-9]+$/.test(ref.bullId)) return undefined;
  try {
    redis.keysOf(ref.queue);
  } catch {
    return undefined;
  }
  return ref;
}

/** Where each job is ({state, at}), one pipeline; undefined for a job that is not live. */
async function locate(
  redis: BullRedis,
  ids: string[],
): Promise<Array<{ id: string; queue: string; bullId: string; state: JobState; at: string }>> {
  const refs = [...new Set(ids)].flatMap((id) => {
    const ref = refOf(redis, id);
    return ref ? [{ id, ...ref }] : [];
  });
  if (refs.length === 0) return [];
  const now = redis.clock.now();
  const tx = redis.tx('pipeline');
  for (const r of refs) {
    tx.jobsmithFind(...redis.stateKeys(r.queue), redis.keysOf(r.queue)[''], r.bullId, now);
  }
  const replies = await redis.exec(tx);
  return refs.flatMap((r, i) => {
    const reply = replies[i];
    if (!Array.isArray(reply)) return [];
    return [{ ...r, state: String(reply[0]) as JobState, at: String(reply[1] ?? '') }];
  });
}

export async function findJob(redis: BullRedis, id: string): Promise<JobRow | null> {
  const [where] = await locate(redis, [id]);
  if (!where) return null;
  const k = redis.keysOf(where.queue);
  const fields = await redis.up().hmget(k[''] + where.bullId, ...ROW_FIELDS);
  return jobRow(where.queue, where.bullId, where.state, where.at, fields, redis.clock.now());
}

/**
 * Delayed jobs to their queue's ready line with BullMQ's own promote (it sets the marker), each
 * with when it became ready (jobsmithReadyNow), in one MULTI.
 */
export async function promoteJobs(redis: BullRedis, ids: string[]): Promise<string[]> {
  const delayed = (await locate(redis, ids)).filter((w) => w.state === 'delayed');
  if (delayed.length === 0) return [];
  const now = redis.clock.now();
  const tx = redis.tx('multi');
  for (const w of delayed) {
    const k = redis.keysOf(w.queue);
    tx.jobsmithReadyNow(k.delayed, k[''] + w.bullId, w.bullId, READY_FIELD, now);
    const keys = [k.delayed, k.wait, k.paused, k.meta, k.prioritized, k.active, k.pc, k.events];
    redis.run(tx, 'promote', [...keys, k.marker, k[''], w.bullId]);
  }
  const replies = await redis.exec(tx);
  // Two replies a job: jobsmithReadyNow's, then promote's (0 when it moved the job).
  return delayed.filter((_, i) => Number(replies[2 * i + 1]) === 0).map((w) => w.id);
}

export async function removeJobs(redis: BullRedis, ids: string[]): Promise<string[]> {
  const refs = [...new Set(ids)].flatMap((id) => {
    const ref = refOf(redis, id);
    return ref ? [{ id, ...ref }] : [];
  });
  if (refs.length === 0) return [];
  const tx = redis.tx('pipeline');
  for (const r of refs) {
    const k = redis.keysOf(r.queue);
    tx.jobsmithRemove(...redis.stateKeys(r.queue), k.stalled, k[''], r.bullId);
  }
  const replies = await redis.exec(tx);
  return refs.filter((_, i) => Number(replies[i]) === 1).map((r) => r.id);
}

export async function jobProgress(redis: BullRedis, lease: Lease, value: string): Promise<boolean> {
  const ref = parseId(lease.id);
  if (!ref) return false;
  const jobKey = redis.keysOf(ref.queue)[''] + ref.bullId;
  const [stored] = await redis.all([
    redis.up().jobsmithProgress(`${jobKey}:lock`, jobKey, lease.token, value) as Promise<unknown>,
  ]);
  return Number(stored) === 1;
}
