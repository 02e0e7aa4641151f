/**
 * The narrow contract every queue driver implements (`database`, `redis`, `sync`), one driver
 * a file. Settling calls take the claim's token: a call with a stale token changes nothing and
 * returns false (fencing), so a worker whose lease expired cannot undo another's work.
 *
 * Failed jobs are not part of this contract: they always go to the SQL `failed_jobs` table
 * (src/failed/store.ts), whatever the driver.
 */

import type { Knex } from 'knex';
import type { FlowStore } from '../flow/types.js';
import type { JobHeaders } from './headers.js';

/** A job to store, already validated and serialised. */
export interface NewJob {
  name: string;
  queue: string;
  /** JSON text. */
  payload: string;
  /** Higher runs first within a queue. */
  priority: number;
  /** Attempts in all. */
  maxTries: number;
  /** Milliseconds to wait before the job may run (relative to the storage clock). */
  delayMs: number;
  /** Absolute epoch milliseconds before which the job must not run; wins over delayMs. */
  runAt?: number;
  /** Deduplication key and how long it holds, in milliseconds. */
  unique?: UniqueKey;
  /** Tags to find the job by (`queue:list --tag`), deduplicated; none when absent or empty. */
  tags?: string[];
  /**
   * Carried to every run of the job, beside the payload (the dispatch's trace context, set by a
   * dispatch hook: Dispatcher's `around`). Stored as src/queue/headers.ts says; none when absent.
   */
  headers?: JobHeaders;
}

/** A unique job's key and its window. */
export interface UniqueKey {
  key: string;
  /** How long the key holds, in milliseconds, while its job lives. */
  forMs: number;
  /**
   * The key is already as a storage keeps it (read back from one: a retried failed job), so it
   * is not encoded again (src/queue/storable.ts).
   */
  stored?: boolean;
}

export interface PushResult {
  id: string;
  deduplicated: boolean;
}

/**
 * Reads the jobs of a bulk dispatch back, in order, `batchSize` at a time (the driver picks the
 * size that suits its storage). The source is already validated and may be read more than once.
 */
export type JobBatches = (batchSize: number) => AsyncIterable<NewJob[]>;

/** A job a worker holds. */
export interface ClaimedJob {
  id: string;
  name: string;
  queue: string;
  payload: string;
  priority: number;
  /** Attempts so far, this claim included (1 on the first run). */
  attempts: number;
  maxTries: number;
  /** Fencing token of this claim. */
  token: string;
  /**
   * The job came back from a claim whose lease ran out (its worker died, hung or lost its
   * storage) while it may have run beside other jobs. The worker runs it alone, and calls
   * `markAlone` just before it starts, so that a job that kills its worker is charged the
   * attempt and the jobs that merely ran beside it are not (docs/reliability.md).
   */
  isolate?: boolean;
  /** The last error recorded for the job (a retry's, or why its last claim was lost), if any. */
  lastError?: string | null;
  /** Tags given at dispatch (`dispatch(job, p, { tags })` and the job's `tags(payload)`). */
  tags?: string[];
  /** Epoch ms from which the job could run (dispatch, or its delay's end): wait = start - this. */
  readyAt?: number;
  /**
   * The progress an earlier attempt stored (`ctx.progress`, JSON text), if any: what
   * `queue:show` showed, kept in the job's history when this attempt reports none.
   */
  progress?: string;
  /** The headers stored at dispatch (NewJob.headers); undefined when it has none. */
  headers?: JobHeaders;
}

/**
 * The error a job carries once a claim of it was lost (its lease ran out: the worker exited, was
 * killed, hung, or lost its storage). Drivers store it as the job's last error when they hand
 * the job out again, so a job that finally fails for max attempts keeps its cause.
 */
export const LEASE_LOST_ERROR =
  'Its worker stopped before the job finished (the process exited, was killed, hung, or lost its storage) and its lease ran out.';

export interface Lease {
  id: string;
  token: string;
}

export interface QueueSizes {
  queue: string;
  /** Ready to run now. */
  pending: number;
  /** Waiting for their time (delay, backoff, RetryAfter). */
  delayed: number;
  /** Held by a worker. */
  reserved: number;
}

export type JobState = 'pending' | 'delayed' | 'reserved';

export interface JobRow {
  id: string;
  name: string;
  queue: string;
  state: JobState;
  priority: number;
  attempts: number;
  maxTries: number;
  /** Epoch ms: when it may run (or, reserved, when its lease ends). */
  availableAt: number;
  createdAt: number;
  lastError: string | null;
  payload: string;
  /** Tags given at dispatch; [] when none. */
  tags: string[];
  /** The latest `ctx.progress(...)` value (parsed JSON), null until the handler reports one. */
  progress: unknown | null;
}

/** What `list` may filter on beside the state. */
export interface JobFilter {
  /** Only jobs carrying this tag. */
  tag?: string;
}

/**
 * A keyset page request (`listPage`): unlike `list`'s offset, a page stays right while jobs
 * come and go, and costs the same however deep it is.
 */
export interface JobPageQuery {
  state?: JobState;
  /** Only jobs carrying this tag. */
  tag?: string;
  /** Only jobs of this name. */
  name?: string;
  /** Rows wanted, at least 1. */
  limit: number;
  /** The `next` of the page before (opaque, driver-made); the first page without it. */
  after?: string;
}

/**
 * One keyset page: `next` is the cursor of the page after, null once nothing follows. A page
 * may hold fewer than `limit` rows, even none, and still have a `next`: each request reads a
 * bounded window of jobs (LIST_PAGE_WINDOW), and a filter that matches few jobs may find fewer
 * than `limit` in it. Follow `next` to look further; a `next` may also lead to an empty last
 * page.
 */
export interface JobPage {
  jobs: JobRow[];
  next: string | null;
}

/**
 * The most index entries one `listPage` request of an SQL driver reads (jobs_ready_idx, walked
 * from the cursor), whatever its filters: the request answers with the matches found among
 * them and, when the queue goes on, a `next` at the last entry read. Issue 17 asks that no
 * request scans a queue: 2,000 entries (and the rows a tag or name filter reads with them)
 * cost a few milliseconds on SQLite and PostgreSQL. At least `limit + 1` entries are read.
 * Redis reads at most 1,000 jobs a page (EXAMINED in src/queue/redis/redis-page.ts: each is a
 * hash read).
 */
export const LIST_PAGE_WINDOW = 2_000;

/**
 * The most priorities of a queue one `listPage` request of an SQL driver visits. Finding the
 * next priority is one index probe, but each costs statements (round trips on PostgreSQL), and
 * a queue may use up to 2,097,151 priorities.
 */
export const LIST_PAGE_PRIORITIES = 32;

/** A `listPage` cursor this driver did not make (or of a queue it does not fit). */
export class InvalidCursorError extends Error {
  constructor() {
    super('Not a cursor of this listing: pass back the `next` of the page before.');
    this.name = 'InvalidCursorError';
  }
}

export interface ReleaseOptions {
  /** Milliseconds until the job may run again. */
  delayMs: number;
  /** Give the attempt back (RetryAfter): the claim does not count. */
  refundAttempt?: boolean;
  /** Message kept with the job for `queue:list`. */
  error?: string;
}

/** Why a job ended in failed_jobs. */
export type FailReason = 'error' | 'poison' | 'max_attempts' | 'timeout';

/** A row for `failed_jobs`. */
export interface FailedJobRecord {
  uuid: string;
  connection: string;
  queue: string;
  name: string;
  payload: string;
  /** The error chain, redacted. */
  exception: string;
  reason: FailReason;
  attempts: number;
  priority: number;
  originalId: string;
  /**
   * The unique key the job was stored with, and its window, so that a retry holds it again.
   * The driver fills it in from what it stored (the worker does not know it). A job stored
   * before migration 0005 has no window kept: then `forMs` is missing.
   */
  unique?: { key: string; forMs?: number };
  /** The job's tags, so that a retry puts it back with them (migration 0019). */
  tags?: string[];
  /** The job's headers (a chain's step, a trace link), so that a retry keeps them (migration 0026). */
  headers?: JobHeaders;
}

/**
 * Caps a claim obeys beside its `limit`. A worker without caps passes none, and its claim costs
 * what it always did.
 */
export interface ClaimOptions {
  /**
   * At most this many jobs of a queue in this claim: the worker's free slots for it (a queue's
   * `concurrency` in a worker of several queues). 0 skips the queue; a queue not in the map is
   * limited by `limit` alone.
   */
  perQueue?: ReadonlyMap<string, number>;
  /**
   * At most this many jobs of a queue held at once with a live lease, across every worker on
   * the storage, this claim's included (the queue's `globalConcurrency`). Checked atomically
   * with the claim; a job whose lease ran out does not count. A queue not in the map is not
   * capped. Every worker of a queue should be given the same cap: on SQL storage each claim
   * checks the cap it is given; on Redis the cap is BullMQ's global concurrency of the queue,
   * which the last worker to start sets (docs/concurrency.md).
   */
  globalConcurrency?: ReadonlyMap<string, number>;
}

export interface QueueDriver {
  /** Connection name stored with failed jobs: `database`, `redis` or `sync`. */
  readonly connection: string;

  /** Stores jobs, all or none (one transaction where the storage has them). */
  push(jobs: NewJob[]): Promise<PushResult[]>;

  /**
   * Optional, for bulk dispatches too large to hold in memory (`queue:dispatch` reading a
   * million lines): stores the jobs `batches` yields, in order, with memory that does not grow
   * with their number, and hands each batch's results to `stored`, in order, as it is written.
   * The Dispatcher falls back to one `push` of everything for a driver without it.
   *
   * Atomicity: the SQL drivers store all or none, in one transaction (results handed to
   * `stored` count only once the call resolves; nothing else should use the driver meanwhile).
   * Redis cannot hold a transaction of any size: each batch is one MULTI, stored whole or not
   * at all; on a failure the batches before it stay stored and the call rejects with a
   * PartialPushError that says how many jobs were (src/queue/bulk/partial-push-error.ts).
   */
  pushStream?(
    batches: JobBatches,
    stored: (results: PushResult[]) => void | Promise<void>,
  ): Promise<void>;

  /**
   * Optional, for a driver whose jobs live in the app's SQL storage on its own knex pool
   * (PostgreSQL's database driver): runs `fn` in one transaction of that storage, with the
   * transaction for the caller's own statements and a `push` bound to it, so the caller's rows
   * and its jobs are stored together or not at all (an outbox with no second step). Commits when
   * `fn` resolves, rolls back when it rejects. SQLite's driver has its own connection and Redis
   * another store: they have none.
   */
  transaction?<T>(
    fn: (trx: Knex.Transaction, push: (jobs: NewJob[]) => Promise<PushResult[]>) => Promise<T>,
  ): Promise<T>;

  /**
   * Optional: throws what `push` would refuse for this job (a value this storage cannot hold),
   * without writing anything. A bulk dispatch checks every job with it before it stores the
   * first, so that an invalid line anywhere stores nothing, even where the store is in batches.
   */
  check?(job: NewJob): void;

  /**
   * Claims up to `limit` runnable jobs, taking `queues` in strict order: a later queue is only
   * looked at when the earlier ones have no ready job (or may give no more: `options`).
   * Increments attempts; sets a lease of `leaseMs` and a fresh token.
   */
  claim(
    queues: string[],
    limit: number,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<ClaimedJob[]>;

  /** Renews leases; returns the ids whose token still held (the others were lost). */
  extend(leases: Lease[], leaseMs: number): Promise<string[]>;

  /** Deletes finished jobs (and frees their unique keys); returns the ids that were still ours. */
  complete(leases: Lease[]): Promise<string[]>;

  /**
   * Optional, for storages that pipeline commands (Redis): completes each job at once and
   * settles each promise (still ours?) when that job's own reply arrives. The worker then
   * frees every slot as early as it can, instead of batching completions per tick.
   */
  completeEach?(leases: Lease[]): Array<Promise<boolean>>;

  /**
   * Records that a held job is about to run alone in its worker (see ClaimedJob.isolate): if its
   * lease now runs out, the job is to blame and the attempt counts. False if the lease was lost.
   */
  markAlone(lease: Lease): Promise<boolean>;

  /** Puts a held job back to wait `delayMs`; false if the lease was lost. */
  release(lease: Lease, options: ReleaseOptions): Promise<boolean>;

  /**
   * Removes a held job because it failed for good and records it in `failed_jobs`, atomically
   * where the storage allows; false (and nothing written) if the lease was lost.
   */
  fail(lease: Lease, record: FailedJobRecord): Promise<boolean>;

  /**
   * Resolves when a job may be ready on one of `queues` (a notification) or after `timeoutMs`,
   * whichever is first, or at once when `signal` aborts.
   */
  waitForJobs(queues: string[], timeoutMs: number, signal: AbortSignal): Promise<void>;

  /**
   * Flow control (rate limits, locks, breakers) on this driver's storage, shared by every
   * process that uses it. Made on first use; closed with the driver.
   */
  flow(): FlowStore;

  sizes(queues: string[]): Promise<QueueSizes[]>;
  /** Queue names that hold at least one job. */
  queues(): Promise<string[]>;
  list(
    queue: string,
    state: JobState | undefined,
    offset: number,
    limit: number,
    filter?: JobFilter,
  ): Promise<JobRow[]>;
  /**
   * A page of a queue's jobs by keyset (the dashboard's listing): SQL drivers in `list`'s order
   * (priority, then the ready line); Redis in run order per structure (held, waiting,
   * prioritized, then delayed by due time), priorities not merged across them. Throws
   * InvalidCursorError for an `after` it did not make.
   *
   * Every request is bounded: it reads at most LIST_PAGE_WINDOW index entries and visits at most
   * LIST_PAGE_PRIORITIES priorities on SQL storage (Redis: 1,000 jobs), then returns what
   * matched so far (at most `limit` jobs; fewer, or none, when the filter matches rarely) and a
   * `next` at the last entry read. Paging on with `next` until it is null sees every job that
   * stays in the queue and matches throughout exactly once: no duplicates, no gaps. On SQL
   * storage `state: 'delayed'` and `'pending'` are ranges of the index (job-page-walk.ts), so
   * their pages come back full however long the queue is; a tag, a name or `reserved` are
   * checked job by job within the window.
   */
  listPage(queue: string, query: JobPageQuery): Promise<JobPage>;
  /** Deletes every job of a queue that no worker holds; returns how many. */
  clear(queue: string): Promise<number>;

  close(): Promise<void>;

  // --- live-job operations (issue 15, docs/lifecycle.md; src/queue/admin/) ---

  /** Any live job (waiting, delayed or held) by id; null when there is none. */
  find(id: string): Promise<JobRow | null>;
  /** Makes delayed jobs ready now; returns the ids promoted (others were not delayed). */
  promote(ids: string[]): Promise<string[]>;
  /**
   * Deletes waiting jobs (pending or delayed, or held by a lease that ran out), never one a
   * worker holds; frees their unique keys. Returns the ids removed.
   */
  remove(ids: string[]): Promise<string[]>;
  /** Stores a held job's progress (JSON text) if `lease` still holds it (fenced). */
  progress(lease: Lease, value: string): Promise<boolean>;
  /**
   * Cancels jobs (`run queue:cancel`, src/cancel/): a waiting one (pending or delayed, or one
   * whose lease ran out) is deleted at once, its unique key freed, and returned in `removed`; a
   * reserved one gets a stored cancel request (its `reason` kept), and its id is in `requested`;
   * unknown ids are in neither. The request is what the job's worker finds with cancelRequests.
   */
  cancel(ids: string[], reason: string): Promise<CancelResult>;

  /** The cancel requests stored for these jobs (what a worker polls, about once a second). */
  cancelRequests(ids: string[]): Promise<CancelRequest[]>;

  /** Deletes the cancel requests of jobs that ended (the worker, once a cancelled job is gone). */
  forgetCancels(ids: string[]): Promise<void>;
}

/** What QueueDriver.cancel did. */
export interface CancelResult {
  /** Waiting jobs, deleted: as they were just before. */
  removed: JobRow[];
  /** Ids of jobs a worker holds, now with a cancel request. */
  requested: string[];
}

/** A stored request to cancel a running job. */
export interface CancelRequest {
  id: string;
  /** Who asked and why ("run queue:cancel by ann@web-1: duplicate"). */
  reason: string;
}
