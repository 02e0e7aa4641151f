import type { RedisQueueBackend } from 'bullmq';
import { UsageError } from '../../errors.js';
import { isPriority, PRIORITY_HELP, queueNameProblem } from '../../jobs/limits.js';
import type { ClaimedJob, NewJob } from '../driver.js';
import { readHeaders, storedHeaders, type JobHeaders } from '../headers.js';
import { cameBackLost } from './lease-scripts.js';
import { fromBullPriority, hashOf, toBullPriority } from './redis-scripts.js';

/*
 * Our jobs in BullMQ's shape and back: a NewJob as BullMQ's addJob takes it, a BullMQ job hash
 * as a ClaimedJob, and job ids (`<queue>:<BullMQ id>`).
 */

/** What the driver remembers of a job it holds, to settle it without reading it back. */
export interface Held {
  queue: string;
  bullId: string;
  token: string;
  /** BullMQ's attemptsStarted when claimed: our attempts. */
  ats: number;
  maxTries: number;
  /** BullMQ deduplication id (our unique key), if any. */
  deid?: string;
}

type BullJobJson = Parameters<RedisQueueBackend['addJobToTransaction']>[1];

/** A job as BullMQ's addJob takes it; `now` is the Redis clock, the delay relative to it. */
export function bullJob(job: NewJob, now: number): BullJobJson {
  const due = job.runAt ?? now + job.delayMs;
  const opts = {
    attempts: job.maxTries,
    priority: toBullPriority(job.priority),
    delay: Math.max(0, Math.round(due - now)),
    deduplication: job.unique
      ? { id: job.unique.key, ttl: Math.max(1, Math.round(job.unique.forMs)) }
      : undefined,
    // Kept in the stored opts (BullMQ keeps options it does not know): read back by the claim
    // from the hash it returns anyway, and written by addJob itself, so atomically.
    tags: job.tags && job.tags.length > 0 ? job.tags : undefined,
    // The same way, as the SQL drivers store them (src/queue/headers.ts).
    headers: job.headers ? readHeaders(storedHeaders(job.headers)) : undefined,
  };
  // The payload is stored as given (JSON text), so BullMQ's tools show it as the job's data.
  const json = {
    name: job.name,
    data: job.payload,
    opts,
    timestamp: now,
    deduplicationId: job.unique?.key,
  };
  return json as unknown as BullJobJson;
}

/**
 * A reply of moveToActive, or of moveToFinished with fetch-next ({hash, id, ...}), as the job
 * claimed and what to remember of it; undefined when no job came with it.
 */
export function claimedFrom(
  queue: string,
  reply: unknown,
  token: string,
): { job: ClaimedJob; held: Held } | undefined {
  if (!Array.isArray(reply) || !Array.isArray(reply[0])) return undefined;
  const bullId = String(reply[1]);
  const hash = hashOf(reply[0]);
  const held: Held = {
    queue,
    bullId,
    token,
    ats: Number(hash.ats ?? 1),
    maxTries: maxTriesOf(hash.opts),
    deid: hash.deid,
  };
  const job: ClaimedJob = {
    id: `${queue}:${bullId}`,
    name: hash.name ?? '',
    queue,
    payload: hash.data ?? '',
    priority: fromBullPriority(Number(hash.priority ?? 0)),
    attempts: held.ats,
    maxTries: held.maxTries,
    token,
    // Read from the hash the claim brought back: telling a job back from a lost lease costs
    // the claim nothing (lease-scripts.ts).
    isolate: cameBackLost(hash),
    lastError: hash.failedReason || null,
    tags: tagsOf(hash.opts),
    readyAt: readyAtOf(hash),
    // BullMQ's own field, where ctx.progress writes (redis-admin.ts): absent until one does.
    progress: hash.progress || undefined,
    headers: headersOf(hash.opts),
  };
  return { job, held };
}

/**
 * When a claimed job could run from: when a release put it back to wait (READY_FIELD), else
 * its dispatch time plus its delay.
 */
function readyAtOf(hash: Record<string, string>): number {
  const ready = hash[READY_FIELD];
  if (ready !== undefined) return Number(ready);
  return Number(hash.timestamp ?? 0) + Number(hash.delay ?? 0);
}

/** Job-hash field a release sets to when the job may run again (epoch ms, Redis clock). */
export const READY_FIELD = 'rdy';

/**
 * A job's tags, kept as `tags` in its `opts` JSON; undefined when it has none. Most jobs have
 * none, and their opts text is not parsed for them (a substring test).
 */
export function tagsOf(opts: string | null | undefined): string[] | undefined {
  if (!opts || !opts.includes('"tags"')) return undefined;
  if (opts === lastTags.text) return lastTags.tags;
  let tags: string[] | undefined;
  try {
    const value = (JSON.parse(opts) as { tags?: unknown }).tags;
    if (Array.isArray(value)) tags = value.filter((t): t is string => typeof t === 'string');
  } catch {
    // no tags readable
  }
  lastTags = { text: opts, tags };
  return tags;
}

let lastTags: { text: string | undefined; tags: string[] | undefined } = {
  text: undefined,
  tags: undefined,
};

/**
 * A job's headers, kept as `headers` in its `opts` JSON; undefined when it has none. Most jobs
 * have none (tracing off), and their opts text is not parsed for them (a substring test).
 */
export function headersOf(opts: string | null | undefined): JobHeaders | undefined {
  if (!opts || !opts.includes('"headers"')) return undefined;
  try {
    const value = (JSON.parse(opts) as { headers?: unknown }).headers;
    return value === undefined ? undefined : readHeaders(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

/** Our tries, kept as BullMQ's `attempts` option in the job's `opts` JSON. */
export function maxTriesOf(opts: string | null | undefined): number {
  // Jobs of one kind carry the same opts text: parse it once per run of them, not per job.
  if (opts === lastOpts.text) return lastOpts.tries;
  let tries = 1; // a job written by something else: one try
  try {
    tries = Number((JSON.parse(opts ?? '{}') as { attempts?: number }).attempts ?? 1);
  } catch {
    // keep one try
  }
  lastOpts = { text: opts, tries };
  return tries;
}

let lastOpts: { text: string | null | undefined; tries: number } = { text: '{}', tries: 1 };

/** A unique job's window (BullMQ's deduplication ttl, kept in `opts`), if it can be read. */
export function uniqueWindowOf(opts: string | null | undefined): number | undefined {
  try {
    const ttl = (JSON.parse(opts ?? '{}') as { de?: { ttl?: unknown } }).de?.ttl;
    return typeof ttl === 'number' && ttl > 0 ? ttl : undefined;
  } catch {
    return undefined;
  }
}

/** `<queue>:<BullMQ id>` → its parts; queue names on redis never hold ":". */
export function parseId(id: string): { queue: string; bullId: string } | undefined {
  const at = id.lastIndexOf(':');
  if (at <= 0 || at === id.length - 1) return undefined;
  return { queue: id.slice(0, at), bullId: id.slice(at + 1) };
}

/**
 * The one queue-name rule (src/jobs/limits.ts), checked again here because a name can come from
 * storage written before it (queue:retry of an old failed job): BullMQ keeps ":" as its key
 * separator, and a name with one would address other keys.
 */
export function checkQueueName(queue: string): void {
  const problem = queueNameProblem(queue);
  if (problem) {
    throw new UsageError(`Cannot use the redis connection: ${problem}.`);
  }
}

/** Rejects, before anything is written, what Redis could not store as asked. */
export function checkJob(job: NewJob): void {
  if (typeof job.name !== 'string' || job.name === '')
    throw new Error(
      `Invalid job: name must be a non-empty string, got ${JSON.stringify(job.name)}.`,
    );
  if (typeof job.queue !== 'string' || job.queue === '')
    throw new Error(`Invalid job ${job.name}: queue must be a non-empty string.`);
  checkQueueName(job.queue);
  if (typeof job.payload !== 'string')
    throw new Error(`Invalid job ${job.name}: the payload must be JSON text.`);
  if (!isPriority(job.priority)) {
    throw new UsageError(
      `Priority ${job.priority} of job ${job.name} cannot be stored on the redis connection: use ${PRIORITY_HELP}.`,
    );
  }
  if (!Number.isInteger(job.maxTries) || job.maxTries < 1)
    throw new Error(`Invalid job ${job.name}: maxTries must be a whole number ≥ 1.`);
  if (!(job.delayMs >= 0)) throw new Error(`Invalid job ${job.name}: delayMs must be ≥ 0.`);
  if (job.unique && !(typeof job.unique.key === 'string' && job.unique.key !== ''))
    throw new Error(`Invalid job ${job.name}: its unique key must be a non-empty string.`);
}

/** BullMQ's scripts answer a lost lock or a vanished job with a negative code. */
export function isLost(reply: unknown): boolean {
  return typeof reply === 'number' && reply < 0;
}
