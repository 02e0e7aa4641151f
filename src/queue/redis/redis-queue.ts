import type { FlowStore } from '../../flow/types.js';
import { redisFlowStore } from '../../flow/backends.js';
import type { Knex } from 'knex';
import type {
  ClaimedJob,
  ClaimOptions,
  FailedJobRecord,
  JobBatches,
  JobFilter,
  JobPage,
  JobPageQuery,
  JobRow,
  JobState,
  Lease,
  NewJob,
  PushResult,
  QueueDriver,
  QueueSizes,
  ReleaseOptions,
  CancelRequest,
  CancelResult,
} from '../driver.js';
import { wholeMs } from '../../util/whole.js';
import { storableJob } from '../storable.js';
import { BullRedis } from './bull-redis.js';
import { FetchAhead, type Fetched } from './fetch-ahead.js';
import { HeldLeases } from './held-leases.js';
import { MarkerWait } from './marker-wait.js';
import { openRedis } from './redis-connection.js';
import { checkJob, claimedFrom, isLost, type Held } from './redis-jobs.js';
import { findJob, jobProgress, promoteJobs, removeJobs } from '../admin/redis-admin.js';
import { pushBatches, pushJobs } from './redis-push.js';
import { clearQueue, listJobs, queueNames, queueSizes } from './redis-listing.js';
import { listJobPage } from './redis-page.js';
import { LeaseRecovery } from './lease-recovery.js';
import { GlobalCaps } from './global-caps.js';
import { unclaimFetched } from './unclaim.js';
import { capped } from '../claim-caps.js';
import { extendLeases } from './extend-leases.js';
import { ReadyClaims } from './ready-claims.js';
import { failHeld, finishHeld, markJobAlone, releaseHeld } from './redis-settle.js';
import {
  redisCancel,
  redisCancelRequests,
  redisForgetCancels,
} from '../../cancel/redis-cancels.js';
import { moveToFinishedArgs } from './redis-scripts.js';

export { STREAM_BATCH } from './redis-push.js';

export interface RedisQueueOptions {
  /** REDIS_URL: `redis://` or `rediss://`, with user, password and database as needed. */
  url: string;
  /** Key prefix of every queue (BullMQ's `prefix`). @defaultValue 'jobsmith' */
  prefix?: string;
  /** The SQL storage that holds failed_jobs; opened on the first final failure. */
  knex: () => Promise<Knex>;
  /**
   * How often, at most, a queue's active jobs are checked for expired leases, across every
   * worker (jobsmithRecover, lease-scripts.ts). A crashed worker's job can be claimed again this
   * long after its lease ends, at the latest. In milliseconds. @defaultValue 250
   */
  stalledCheckMs?: number;
  /**
   * Fetch the next job of the worker's first queue along with each completion (BullMQ's
   * `fetchNext`), so most jobs start without a round trip of their own. @defaultValue true
   */
  fetchWithCompletion?: boolean;
}

/** Where the names of the queues that ever got a job are kept (not a BullMQ key). */
const REGISTRY = 'jobsmith:queues';

/**
 * The redis driver: jobs live in Redis in BullMQ's layout (so BullMQ's own tools can look at
 * them) and every change a worker makes goes through BullMQ's Lua scripts. A job id is
 * `<queue>:<BullMQ id>`; a claim's token is the BullMQ lock token. Failed jobs go to SQL like
 * on every connection; pausing and restarting use the SQL control tables too. docs/redis.md
 * explains how each part of the contract maps onto BullMQ.
 *
 * This file holds what ties the parts together: which source a claim takes jobs from (those
 * fetched along with completions, fetch-ahead.ts, or Redis itself, ready-claims.ts), and the
 * completions that fetch them. Settling one job is redis-settle.ts; pushes, redis-push.ts;
 * listings, redis-listing.ts; live-job operations, src/queue/admin/redis-admin.ts.
 */
export class RedisQueue implements QueueDriver {
  readonly connection = 'redis';
  private readonly prefix: string;
  private redis?: BullRedis;
  private readonly markers: MarkerWait;
  private readonly ahead: FetchAhead;
  private closed = false;
  /** Jobs this driver claimed and has not settled. */
  private readonly held = new HeldLeases(() => this.r());
  private lastClaim?: { queues: string[]; leaseMs: number };
  /** Checks for jobs whose lease ran out, at most once per stalledCheckMs per queue. */
  private readonly recovery: LeaseRecovery;
  /** Claims straight from Redis, when no completion brings the jobs. */
  private readonly ready: ReadyClaims;
  /** BullMQ's global concurrency of each queue, as this driver last wrote it. */
  private readonly caps = new GlobalCaps(() => this.r());
  private flowStore?: FlowStore;

  constructor(private readonly options: RedisQueueOptions) {
    this.prefix = (options.prefix ?? 'jobsmith').replace(/:+$/, '');
    this.recovery = new LeaseRecovery(() => this.r(), options.stalledCheckMs ?? 250);
    this.markers = new MarkerWait(
      () => openRedis(options.url, { name: `${this.prefix}:jobsmith:blocking` }),
      () => this.r().clock.now(),
    );
    this.ready = new ReadyClaims(() => this.r(), this.recovery, this.markers, this.held);
    this.ahead = new FetchAhead(
      (items) => this.unclaim(items),
      () => this.lastClaim?.leaseMs ?? Infinity,
    );
  }

  /**
   * Connects and loads the scripts; fails fast with a ConnectionError naming REDIS_URL (password
   * masked) when Redis is down. Called once, before any other method.
   */
  async connect(): Promise<void> {
    this.redis = await BullRedis.open(this.options.url, this.prefix);
  }

  async push(given: NewJob[]): Promise<PushResult[]> {
    if (given.length === 0) return [];
    const jobs = given.map(storableJob);
    for (const job of jobs) checkJob(job);
    return pushJobs(this.r(), `${this.prefix}:${REGISTRY}`, jobs);
  }

  /** Atomic per batch of STREAM_BATCH jobs, not as a whole: see pushBatches. */
  async pushStream(
    batches: JobBatches,
    stored: (results: PushResult[]) => void | Promise<void>,
  ): Promise<void> {
    return pushBatches((jobs) => this.push(jobs), batches, stored);
  }

  check(job: NewJob): void {
    checkJob(storableJob(job));
  }

  async claim(
    queues: string[],
    limit: number,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<ClaimedJob[]> {
    leaseMs = wholeMs(leaseMs);
    this.lastClaim = { queues, leaseMs };
    if (this.caps.stale(queues, options)) await this.caps.write(queues, options);
    const claimed: ClaimedJob[] = [];
    for (const queue of queues) {
      if (claimed.length >= limit) break;
      // This queue's jobs end at `end` in `claimed` (the whole limit without per-queue caps).
      const end = options ? claimed.length + capped(options, queue, limit - claimed.length) : limit;
      if (claimed.length >= end) continue;
      claimed.push(...this.ahead.take(queue, end - claimed.length));
      if (claimed.length >= end) continue;
      if (!this.fetchesFor(queue)) {
        await this.ready.claim(queue, end - claimed.length, leaseMs, claimed);
        continue;
      }
      // A worker frees a job's slot before its completion is sent (batched, on the next turn
      // of the event loop). Let that completion go first: it fetches the next job with it, and
      // asking Redis for the same slot as well would claim two jobs for one.
      if (!this.ahead.coming(queue)) await new Promise((resolve) => setImmediate(resolve));
      claimed.push(...this.ahead.take(queue, end - claimed.length));
      if (claimed.length === 0 && this.ahead.coming(queue)) {
        await this.ahead.arrival(1000);
        claimed.push(...this.ahead.take(queue, end - claimed.length));
      }
      const coming = this.ahead.coming(queue);
      if (end - claimed.length > coming)
        await this.ready.claim(queue, end - claimed.length - coming, leaseMs, claimed);
      // A worker kept busy by jobs fetched with completions may not ask Redis for this queue
      // for a long time: jobs whose lease ran out must still come back on time.
      else if (this.recovery.due(queue)) void this.recovery.recover(queue).catch(() => {});
      // Jobs of this queue are on their way: no later queue may go before them.
      if (coming > 0) break;
    }
    return claimed;
  }

  /** Whether completions fetch the next job of `queue` (the worker's first queue). */
  private fetchesFor(queue: string): boolean {
    return this.options.fetchWithCompletion !== false && this.lastClaim?.queues[0] === queue;
  }

  async extend(leases: Lease[], leaseMs: number): Promise<string[]> {
    return extendLeases(this.r(), leases, leaseMs);
  }

  async complete(leases: Lease[]): Promise<string[]> {
    const done = await Promise.all(this.completeEach(leases));
    return leases.flatMap((lease, i) => (done[i] ? [lease.id] : []));
  }

  /**
   * One promise per lease, settled by its own reply: the worker frees each slot as soon as its
   * job is done, instead of when the slowest completion of a batch is.
   */
  completeEach(leases: Lease[]): Array<Promise<boolean>> {
    const sent = this.sendCompletions(leases);
    return leases.map((_, i) => sent.then((each) => each[i]!));
  }

  private async sendCompletions(leases: Lease[]): Promise<Array<Promise<boolean>>> {
    const redis = this.r();
    if (redis.client.status !== 'ready') await redis.reconnected();
    // This runs once per job: no promise per lease when the claim is remembered.
    const entries: Array<{ lease: Lease; held: Held; index: number }> = [];
    for (const [index, lease] of leases.entries()) {
      const held = this.held.known(lease) ?? (await this.held.of(lease));
      this.held.forget(lease);
      if (held) entries.push({ lease, held, index });
    }
    const each = leases.map(() => LOST);
    if (entries.length === 0) return each;
    // Fetch the next job with the completion (one round trip instead of two) when it is from
    // the worker's first queue: nothing may come before it, so strict order holds. Each
    // completion frees one slot of the worker; a job already fetched ahead fills one of them.
    const last = this.lastClaim;
    const fetchFrom =
      !this.closed && last && this.fetchesFor(last.queues[0]!) ? last.queues[0] : undefined;
    let fetches = entries.length - this.ahead.size;
    const now = redis.clock.now();
    const calls = redis.ramp(entries, ({ lease, held }) => {
      const fetch = held.queue === fetchFrom && fetches-- > 0;
      const args = moveToFinishedArgs(redis.keysOf(held.queue), held.bullId, now, {
        target: 'completed',
        value: 'null',
        token: lease.token,
        fetchNextMs: fetch ? last!.leaseMs : undefined,
        maxTries: held.maxTries,
      });
      if (!fetch) return finishHeld(redis, held, args);
      // Each reply is handled as it arrives, so the worker starts the job it brings at once.
      const arrived = this.ahead.expect(held.queue);
      return finishHeld(redis, held, args).then(
        (reply) => {
          const next = claimedFrom(held.queue, reply, lease.token);
          if (next) this.held.set(next.job.id, next.held);
          arrived(next);
          return reply;
        },
        (error: unknown) => {
          arrived();
          throw error;
        },
      );
    });
    calls.forEach((call, k) => {
      each[entries[k]!.index] = redis.all([call]).then(([reply]) => !isLost(reply));
    });
    return each;
  }

  // Settling one held job: redis-settle.ts.

  async markAlone(lease: Lease): Promise<boolean> {
    return markJobAlone(this.r(), lease);
  }

  async release(lease: Lease, options: ReleaseOptions): Promise<boolean> {
    return releaseHeld(this.r(), this.held, lease, options);
  }

  async fail(lease: Lease, given: FailedJobRecord): Promise<boolean> {
    return failHeld(this.r(), this.held, () => this.options.knex(), lease, given);
  }

  async waitForJobs(queues: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    // A completion fetched a job for these queues while the last claim was under way: it is
    // ready now, or once the fetches on their way are back. Jobs fetched for queues the
    // worker no longer asks for (paused) go back.
    if (this.ahead.has(queues)) return;
    if (queues.some((q) => this.ahead.coming(q) > 0)) return this.ahead.arrival(timeoutMs, signal);
    await this.ahead.release().catch(() => {});
    const redis = this.r();
    const keys = queues.map((q) => redis.keysOf(q).marker);
    await this.markers.wait(keys, timeoutMs, signal);
  }

  // Listings see jobs fetched ahead as waiting: those go back first.

  async sizes(queues: string[]): Promise<QueueSizes[]> {
    await this.ahead.release();
    return queueSizes(this.r(), queues);
  }

  async queues(): Promise<string[]> {
    await this.ahead.release();
    return queueNames(this.r(), `${this.prefix}:${REGISTRY}`);
  }

  async list(
    queue: string,
    state: JobState | undefined,
    offset: number,
    limit: number,
    filter?: JobFilter,
  ): Promise<JobRow[]> {
    await this.ahead.release();
    return listJobs(this.r(), queue, state, offset, limit, filter?.tag);
  }

  async listPage(queue: string, query: JobPageQuery): Promise<JobPage> {
    await this.ahead.release();
    return listJobPage(this.r(), queue, query);
  }

  // Live-job operations: src/queue/admin/redis-admin.ts. Jobs fetched ahead go back first.

  async find(id: string): Promise<JobRow | null> {
    await this.ahead.release();
    return findJob(this.r(), id);
  }

  async promote(ids: string[]): Promise<string[]> {
    await this.ahead.release();
    return promoteJobs(this.r(), ids);
  }

  async remove(ids: string[]): Promise<string[]> {
    await this.ahead.release();
    return removeJobs(this.r(), ids);
  }

  async progress(lease: Lease, value: string): Promise<boolean> {
    return jobProgress(this.r(), lease, value);
  }

  async clear(queue: string): Promise<number> {
    await this.ahead.release();
    return clearQueue(this.r(), queue);
  }

  flow(): FlowStore {
    return (this.flowStore ??= redisFlowStore(this.r().client, this.prefix));
  }

  async cancel(ids: string[], reason: string): Promise<CancelResult> {
    await this.ahead.release(); // jobs fetched ahead are waiting, not running
    return redisCancel(this.r(), ids, reason);
  }

  async cancelRequests(ids: string[]): Promise<CancelRequest[]> {
    return redisCancelRequests(this.r(), ids);
  }

  async forgetCancels(ids: string[]): Promise<void> {
    return redisForgetCancels(this.r(), ids);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ahead.stop();
    await this.ahead.release().catch(() => {});
    this.markers.close();
    await this.redis?.close();
  }

  // --- plumbing -------------------------------------------------------------------------------

  private r(): BullRedis {
    if (!this.redis) throw new Error('RedisQueue used before connect()');
    return this.redis;
  }

  /** Unlocks jobs fetched ahead that no claim took, their attempt given back. */
  private async unclaim(items: Fetched[]): Promise<void> {
    for (const { job } of items) this.held.delete(job.id);
    await unclaimFetched(this.redis, items);
  }
}

/** A lease that was no longer ours: nothing was sent for it. */
const LOST = Promise.resolve(false);
