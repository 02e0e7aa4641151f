import type { FlowStore } from '../../flow/types.js';
import { postgresFlowStore } from '../../flow/backends.js';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type pg from 'pg';
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
import { storableError, storableJob } from '../storable.js';
import { pushBatch, PUSH_BATCH } from './postgres-push.js';
import { withClient } from './pg-checkout.js';
import { claimCapped } from './postgres-capped-claim.js';
import { capped } from '../claim-caps.js';
import { claimOrder, toClaimed } from './rows.js';
import { SQL } from './postgres-sql.js';
import {
  arrayLiteral,
  newPendingSettle,
  prepared,
  SETTLE_SESSION,
  type PendingSettle,
  type Row,
} from './postgres-settle.js';
import { pgConnection } from '../../db/pg-url.js';
import { requireNative } from '../../util/native-require.js';
import {
  postgresCancel,
  postgresCancelRequests,
  postgresForgetCancels,
} from '../../cancel/postgres-cancels.js';
import { findJob, promoteJobs, removeJobs } from '../admin/postgres-admin.js';
import { clearQueue, listJobPage, listJobs, queueNames, queueSizes } from './postgres-listing.js';
import { failJob } from './postgres-fail.js';
import { PostgresWake } from './postgres-wake.js';

// Loaded with require, past any loader hooks of the app: see util/native-require.ts.
const Pg = requireNative<typeof pg>('pg');

interface Options {
  knex: Knex;
  /** Connection string for the LISTEN connection (the pool cannot hold one). */
  url: string;
}

/**
 * The database driver on PostgreSQL: FOR UPDATE SKIP LOCKED claims, and LISTEN/NOTIFY so an
 * idle worker wakes as soon as a job is pushed; polling only covers delayed jobs and a lost
 * LISTEN connection (which is re-opened with backoff, e.g. across a server restart).
 *
 * This file holds the worker's hot path: claims and completions on the settle pool, coalesced
 * into one statement when they meet. Waiting is postgres-wake.ts; fail, postgres-fail.ts;
 * pushes, postgres-push.ts; listings, postgres-listing.ts; live-job operations,
 * src/queue/admin/postgres-admin.ts.
 */
export class PostgresQueue implements QueueDriver {
  readonly connection = 'database';
  private readonly knex: Knex;
  /** LISTEN/NOTIFY and the next due job: what ends an idle worker's wait. */
  private readonly wake: PostgresWake;
  /**
   * The worker's own writes (claim, extend, complete, release, fail) go through a pool with
   * synchronous_commit off: a commit lost in a server crash only makes a job run again, which
   * at-least-once delivery allows, and it saves an fsync per write. Pushes stay on the durable
   * knex pool: a lost dispatch would lose a job.
   *
   * This pool runs nothing but those statements, each written for an index (the primary key,
   * jobs_ready_idx, job_uniques.job_id), so each is planned once per connection
   * (force_generic_plan): planning a completion and claim took longer than running it (0.18 of
   * 0.45 ms at concurrency 1). With sequential and bitmap scans off, a plan made while the table
   * was empty, or under stale statistics, still walks the index once the queue is large; left
   * free, the planner scanned the whole table, or sorted the whole queue for a claim.
   */
  private readonly settlePool: pg.Pool;
  private pending = newPendingSettle();
  private warmed = false;

  constructor(options: Options) {
    this.knex = options.knex;
    this.settlePool = new Pg.Pool({
      ...pgConnection(options.url),
      options: SETTLE_SESSION,
      max: 4,
      connectionTimeoutMillis: 5000,
    });
    // An idle client dropped by a server restart must not crash the process; the pool replaces it.
    this.settlePool.on('error', () => {});
    this.wake = new PostgresWake(options.url, async (queues) => {
      // On the worker's own pool, whose idle connections a server restart may drop safely.
      return (await this.settle('nextDue', [queues])).rows;
    });
  }

  /**
   * On the first claim, opens two more settle connections in the background and plans the
   * worker's statements on them. A busy worker soon has a claim and completions in flight at
   * once, and otherwise each new connection made its first statement wait 10–20 ms (a new
   * backend, its catalog caches, its plans) just as the first jobs ran.
   */
  private warm(): void {
    this.warmed = true;
    for (let i = 0; i < 2; i++) {
      void withClient(this.settlePool, async (client) => {
        await client.query(prepared('claim', [0, '', '', 0]));
        await client.query(prepared('complete', [[], []]));
        await client.query(prepared('completeAndClaim', [[], [], 0, '', '', [], 0]));
      }).catch(() => {}); // only a head start: the pool connects on demand anyway
    }
  }

  /** Runs a hot-path statement as a named prepared statement, so it is planned once per connection. */
  private async settle(name: keyof typeof SQL, params: unknown[]): Promise<pg.QueryResult<Row>> {
    return this.settlePool.query(prepared(name, params));
  }

  /**
   * A batch of plain jobs is one statement (one round trip, one commit, the NOTIFY included),
   * which is most of a dispatch's latency; more, or unique jobs, go in batches in a transaction
   * (postgres-push.ts).
   */
  async push(given: NewJob[]): Promise<PushResult[]> {
    const jobs = given.map(storableJob);
    if (jobs.length <= PUSH_BATCH && jobs.every((j) => !j.unique)) {
      return pushBatch(this.knex, jobs);
    }
    return this.knex.transaction(async (trx) => {
      const results: PushResult[] = [];
      for (let i = 0; i < jobs.length; i += PUSH_BATCH) {
        results.push(...(await pushBatch(trx, jobs.slice(i, i + PUSH_BATCH))));
      }
      return results;
    });
  }

  async transaction<T>(
    fn: (trx: Knex.Transaction, push: (jobs: NewJob[]) => Promise<PushResult[]>) => Promise<T>,
  ): Promise<T> {
    return this.knex.transaction((trx) =>
      fn(trx, async (given) => {
        const jobs = given.map(storableJob);
        const results: PushResult[] = [];
        for (let i = 0; i < jobs.length; i += PUSH_BATCH) {
          results.push(...(await pushBatch(trx, jobs.slice(i, i + PUSH_BATCH))));
        }
        return results;
      }),
    );
  }

  /** One transaction for the whole stream, a statement or a few per batch: all or none. */
  async pushStream(
    batches: JobBatches,
    stored: (results: PushResult[]) => void | Promise<void>,
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      for await (const batch of batches(PUSH_BATCH)) {
        await stored(await pushBatch(trx, batch.map(storableJob)));
      }
    });
  }

  async claim(
    queues: string[],
    limit: number,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<ClaimedJob[]> {
    if (!this.warmed) this.warm();
    leaseMs = wholeMs(leaseMs);
    // randomUUID draws from a cached entropy pool: far cheaper per claim than randomBytes.
    const token = randomUUID();
    this.wake.claimBegins();
    const claimed: ClaimedJob[] = [];
    for (const queue of queues) {
      const want = options
        ? capped(options, queue, limit - claimed.length)
        : limit - claimed.length;
      const cap = options?.globalConcurrency?.get(queue);
      if (want <= 0) continue;
      const rows =
        cap !== undefined
          ? await claimCapped(this.settlePool, { queue, limit: want, cap, leaseMs, token })
          : queue === queues[0] && !this.pending.claim
            ? await this.claimWithCompletions(queue, want, leaseMs, token)
            : (await this.settle('claim', [leaseMs, token, queue, want])).rows;
      // UPDATE … RETURNING gives no order; keep the claim order for strict priority.
      rows.sort(claimOrder);
      for (const row of rows) claimed.push(toClaimed(row, token));
      if (claimed.length >= limit) break;
    }
    return claimed;
  }

  async extend(leases: Lease[], leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const { rows } = await this.settle('extend', [
      wholeMs(leaseMs),
      arrayLiteral(leases.map((l) => l.id)),
      arrayLiteral(leases.map((l) => l.token)),
    ]);
    return rows.map((r) => String(r.id));
  }

  /**
   * One statement on the settle pool: it deletes the jobs and frees their unique keys in one
   * commit, without waiting for its WAL flush (see `settlePool`).
   */
  async complete(leases: Lease[]): Promise<string[]> {
    if (leases.length === 0) return [];
    const rows = await this.coalesce((p) => p.leases.push(...leases));
    // Without `done`, the flush completed alone; with it, `false` marks a claimed job.
    const done = new Set(rows.filter((r) => r.done !== false).map((r) => String(r.id)));
    return leases.filter((l) => done.has(l.id)).map((l) => l.id);
  }

  /** A claim that takes along the completions waiting for the next flush, if there are any. */
  private async claimWithCompletions(
    queue: string,
    limit: number,
    leaseMs: number,
    token: string,
  ): Promise<Row[]> {
    const rows = await this.coalesce((p) => (p.claim = { queue, limit, leaseMs, token }));
    // Rows marked done are the completions'; a claim that went alone has no `done` column.
    return rows.filter((r) => r.done !== true);
  }

  /**
   * Adds a claim or completions to the next flush, one setImmediate away, and resolves with
   * the flush's rows (claimed jobs for a claim, completed ids for completions). A worker frees
   * a slot as a job's handler ends and claims at once, while the completion is still on its
   * way (src/worker/job-runs.ts, settlesBehind), so the two meet here and go as one statement.
   */
  private coalesce(add: (p: PendingSettle) => void): Promise<Row[]> {
    add(this.pending);
    if (!this.pending.scheduled) {
      this.pending.scheduled = true;
      setImmediate(() => void this.flush());
    }
    return this.pending.result.promise;
  }

  private async flush(): Promise<void> {
    const { leases, claim, result } = this.pending;
    this.pending = newPendingSettle();
    const ids = arrayLiteral(leases.map((l) => l.id));
    const tokens = arrayLiteral(leases.map((l) => l.token));
    try {
      if (!claim) {
        const { rows } = await this.settle('complete', [ids, tokens]);
        return result.resolve(rows);
      }
      const { queue, limit, leaseMs, token } = claim;
      if (leases.length === 0) {
        const { rows } = await this.settle('claim', [leaseMs, token, queue, limit]);
        return result.resolve(rows);
      }
      const { rows } = await this.settle('completeAndClaim', [
        ids,
        tokens,
        leaseMs,
        token,
        queue,
        ids,
        limit,
      ]);
      result.resolve(rows);
    } catch (error) {
      result.reject(error);
    }
  }

  async markAlone(lease: Lease): Promise<boolean> {
    const result = await this.settle('markAlone', [lease.id, lease.token]);
    return result.rowCount === 1;
  }

  async release(lease: Lease, options: ReleaseOptions): Promise<boolean> {
    const result = await this.settle('release', [
      options.refundAttempt ? 1 : 0,
      storableError(options.error) ?? null,
      wholeMs(options.delayMs),
      lease.id,
      lease.token,
    ]);
    return result.rowCount === 1;
  }

  async fail(lease: Lease, given: FailedJobRecord): Promise<boolean> {
    return withClient(this.settlePool, (client) => failJob(client, lease, given));
  }

  async waitForJobs(queues: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.wake.wait(queues, timeoutMs, signal);
  }

  // Listings: postgres-listing.ts.

  async sizes(queues: string[]): Promise<QueueSizes[]> {
    return queueSizes(this.knex, queues);
  }

  async queues(): Promise<string[]> {
    return queueNames(this.knex);
  }

  async list(
    queue: string,
    state: JobState | undefined,
    offset: number,
    limit: number,
    filter?: JobFilter,
  ): Promise<JobRow[]> {
    return listJobs(this.knex, queue, state, offset, limit, filter?.tag);
  }

  async listPage(queue: string, query: JobPageQuery): Promise<JobPage> {
    return listJobPage(this.knex, queue, query);
  }

  // Live-job operations: src/queue/admin/postgres-admin.ts.

  async find(id: string): Promise<JobRow | null> {
    return findJob(this.knex, id);
  }

  async promote(ids: string[]): Promise<string[]> {
    return promoteJobs(this.knex, ids);
  }

  async remove(ids: string[]): Promise<string[]> {
    return removeJobs(this.knex, ids);
  }

  async progress(lease: Lease, value: string): Promise<boolean> {
    return (await this.settle('progress', [value, lease.id, lease.token])).rowCount === 1;
  }

  async clear(queue: string): Promise<number> {
    return clearQueue(this.knex, queue);
  }

  private flowStore?: FlowStore;

  flow(): FlowStore {
    return (this.flowStore ??= postgresFlowStore(this.knex));
  }

  async cancel(ids: string[], reason: string): Promise<CancelResult> {
    return postgresCancel(this.knex, ids, reason);
  }

  async cancelRequests(ids: string[]): Promise<CancelRequest[]> {
    return postgresCancelRequests(this.knex, ids);
  }

  async forgetCancels(ids: string[]): Promise<void> {
    return postgresForgetCancels(this.knex, ids);
  }

  async close(): Promise<void> {
    await this.wake.close();
    await this.settlePool.end().catch(() => {});
  }
}
