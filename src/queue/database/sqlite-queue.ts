import type { FlowStore } from '../../flow/types.js';
import { sqliteFlowStore } from '../../flow/backends.js';
import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
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
import { failedJobRow } from '../../failed/record.js';
import { wholeMs } from '../../util/whole.js';
import { storableError, storableJob, storableRecord } from '../storable.js';
import { claimOrder, toClaimed, toRow, uniqueOf, untilDue } from './rows.js';
import { walkPage } from './job-page-walk.js';
import { sqlitePageReader } from './sqlite-page.js';
import { capped } from '../claim-caps.js';
import { guardFile, SqliteFile } from './sqlite-file.js';
import { prepareStatements, type Statements } from './sqlite-sql.js';
import { WakePacer, WalWatch } from './sqlite-wal-watch.js';
import { requireNative } from '../../util/native-require.js';
import { immediateTransaction } from '../../db/sqlite-transaction.js';
import {
  sqliteCancel,
  sqliteCancelRequests,
  sqliteForgetCancels,
} from '../../cancel/sqlite-cancels.js';
import { storedTags } from '../../jobs/tags.js';
import { storedHeaders } from '../headers.js';
import { sqliteAdmin } from '../admin/sqlite-admin.js';

// Loaded with require, past any loader hooks of the app: see util/native-require.ts.
const Sqlite = requireNative<typeof BetterSqlite3>('better-sqlite3');

interface Options {
  /** Absolute path of the database file (already migrated). */
  filename: string;
  /**
   * How often an idle worker looks for another process's writes when no WAL watch tells it
   * first (sqlite-wal-watch.ts). @defaultValue 50
   */
  pollMs?: number;
}

/** Jobs read from a bulk dispatch's file per step of pushStream. */
const STREAM_BATCH = 5000;

/** What deleting a job returns. */
interface DeletedRow {
  unique_key: string | null;
  unique_for_ms: number | null;
}

/**
 * The database driver on SQLite. It keeps its own better-sqlite3 connection (not knex's) so the
 * hot path runs prepared statements in synchronous `BEGIN IMMEDIATE` transactions: a claim can
 * never be split by another writer, and no transaction ever stays open across an await.
 */
export class SqliteQueue implements QueueDriver {
  readonly connection = 'database';
  private readonly db: BetterSqlite3.Database;
  private readonly sql: Statements;
  private readonly pollMs: number;
  private readonly localWake = new Set<() => void>();
  private readonly walWatch: WalWatch;
  private readonly pacer: WakePacer;
  /** PRAGMA data_version as the latest claim saw it: a commit after it is news to a wait. */
  private claimVersion?: number;
  /**
   * The storage clock (epoch ms) at the latest claim: a job due after it was not there for that
   * claim to take, so a wait must not sleep beside it (waitForJobs).
   */
  private claimNow?: number;
  /** The hot path's transactions, made once (src/db/sqlite-transaction.ts says why). */
  private readonly tx;

  constructor(options: Options) {
    // Read-only, corrupt, replaced or deleted: every call checks (see SqliteFile).
    const file = new SqliteFile(options.filename);
    try {
      this.db = new Sqlite(options.filename);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('synchronous = NORMAL');
      this.sql = prepareStatements(this.db);
    } catch (error) {
      throw file.failure(error);
    }
    const inTransaction = <Args extends unknown[], Result>(fn: (...args: Args) => Result) =>
      immediateTransaction(this.db, fn);
    this.tx = {
      push: inTransaction((jobs: NewJob[]) => this.insertJobs(jobs, this.now())),
      claim: inTransaction(
        (queues: string[], limit: number, leaseMs: number, options?: ClaimOptions) =>
          this.claimRows(queues, limit, leaseMs, options),
      ),
      extend: inTransaction((leases: Lease[], leaseMs: number) => this.extendRows(leases, leaseMs)),
      complete: inTransaction((leases: Lease[]) => this.deleteRows(leases)),
      release: inTransaction((lease: Lease, options: ReleaseOptions) =>
        this.releaseRow(lease, options),
      ),
      fail: inTransaction((lease: Lease, record: FailedJobRecord) => this.failRow(lease, record)),
    };
    this.pollMs = options.pollMs ?? 50;
    this.walWatch = new WalWatch(options.filename);
    this.pacer = new WakePacer(this.pollMs);
    guardFile(this, file);
  }

  private flowStore?: FlowStore;

  flow(): FlowStore {
    return (this.flowStore ??= sqliteFlowStore(this.db));
  }

  private now(): number {
    return this.sql.now.pluck().get() as number;
  }

  async push(given: NewJob[]): Promise<PushResult[]> {
    const jobs = given.map(storableJob);
    const results = this.tx.push(jobs);
    this.wakeLocal();
    return results;
  }

  /**
   * One `BEGIN IMMEDIATE` transaction for the whole stream: all or none. The write lock is held
   * only while the jobs are written: the caller reads them from a file it validated them into
   * first (src/queue/bulk/spool.ts), never from a producer that may be slow, so workers wait
   * for the lock no longer than the writing takes (see docs/performance.md).
   */
  async pushStream(
    batches: JobBatches,
    stored: (results: PushResult[]) => void | Promise<void>,
  ): Promise<void> {
    if (this.db.inTransaction) {
      throw new Error('SqliteQueue.pushStream: the connection is already in a transaction.');
    }
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const now = this.now();
      for await (const batch of batches(STREAM_BATCH)) {
        await stored(this.insertJobs(batch.map(storableJob), now));
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    this.wakeLocal();
  }

  /** Inserts jobs inside the caller's transaction; `now` is the storage clock at its start. */
  private insertJobs(jobs: NewJob[], now: number): PushResult[] {
    return jobs.map((job) => {
      if (job.unique) {
        this.sql.dropExpiredUnique.run(job.unique.key, now);
        const existing = this.sql.findUnique.pluck().get(job.unique.key) as string | undefined;
        if (existing !== undefined) return { id: String(existing), deduplicated: true };
      }
      const availableAt = job.runAt ?? now + job.delayMs;
      const id = String(
        this.sql.insertJob.run({
          queue: job.queue,
          name: job.name,
          payload: job.payload,
          priority: job.priority,
          max_tries: job.maxTries,
          available_at: availableAt,
          unique_key: job.unique?.key ?? null,
          unique_for_ms: job.unique?.forMs ?? null,
          created_at: now,
          tags: storedTags(job.tags),
          headers: storedHeaders(job.headers),
        }).lastInsertRowid,
      );
      if (job.unique) this.sql.insertUnique.run(job.unique.key, id, now + job.unique.forMs);
      return { id, deduplicated: false };
    });
  }

  /**
   * One IMMEDIATE transaction: no other process writes between a capped queue's count of held
   * jobs and its claim, so `globalConcurrency` holds across processes.
   */
  async claim(
    queues: string[],
    limit: number,
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<ClaimedJob[]> {
    const claimed = this.tx.claim(queues, limit, wholeMs(leaseMs), options);
    this.pacer.claimed(claimed.length);
    return claimed;
  }

  /** A claim's reads and writes, inside its transaction (tx.claim). */
  private claimRows(
    queues: string[],
    limit: number,
    leaseMs: number,
    options: ClaimOptions | undefined,
  ): ClaimedJob[] {
    // Read under the write lock: no commit of another process falls between it and the claim.
    this.claimVersion = this.sql.dataVersion.pluck().get() as number;
    const now = this.now();
    this.claimNow = now;
    // randomUUID draws from a cached entropy pool: far cheaper per claim than randomBytes.
    const token = randomUUID();
    const claimed: ClaimedJob[] = [];
    for (const queue of queues) {
      const want = options
        ? capped(options, queue, limit - claimed.length, () =>
            Number(this.sql.countHeld.pluck().get({ queue, now })),
          )
        : limit - claimed.length;
      if (want <= 0) continue;
      const rows = this.sql.claim.all({
        queue,
        now,
        limit: want,
        lease_until: now + leaseMs,
        token,
      }) as Array<Record<string, unknown>>;
      // RETURNING gives no order; keep the claim order for strict priority.
      rows.sort(claimOrder);
      for (const row of rows) claimed.push(toClaimed(row, token));
      if (claimed.length >= limit) break;
    }
    return claimed;
  }

  async extend(leases: Lease[], leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.tx.extend(leases, leaseMs);
  }

  private extendRows(leases: Lease[], leaseMs: number): string[] {
    const until = this.now() + wholeMs(leaseMs);
    return leases
      .filter((l) => this.sql.extend.run(until, l.id, l.token).changes === 1)
      .map((l) => l.id);
  }

  async complete(leases: Lease[]): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.tx.complete(leases);
  }

  private deleteRows(leases: Lease[]): string[] {
    const done: string[] = [];
    for (const l of leases) {
      const row = this.sql.deleteJob.get(l.id, l.token) as DeletedRow | undefined;
      if (row) {
        done.push(l.id);
        if (row.unique_key !== null) this.sql.dropUniqueOf.run(l.id);
      }
    }
    return done;
  }

  async markAlone(lease: Lease): Promise<boolean> {
    return this.sql.markAlone.run(lease.id, lease.token).changes === 1;
  }

  async release(lease: Lease, options: ReleaseOptions): Promise<boolean> {
    const changed = this.tx.release(lease, options);
    if (changed && options.delayMs === 0) this.wakeLocal();
    return changed;
  }

  private releaseRow(lease: Lease, options: ReleaseOptions): boolean {
    return (
      this.sql.release.run({
        at: this.now() + wholeMs(options.delayMs),
        refund: options.refundAttempt ? 1 : 0,
        error: storableError(options.error) ?? null,
        id: lease.id,
        token: lease.token,
      }).changes === 1
    );
  }

  async fail(lease: Lease, record: FailedJobRecord): Promise<boolean> {
    return this.tx.fail(lease, record);
  }

  private failRow(lease: Lease, record: FailedJobRecord): boolean {
    const row = this.sql.deleteJob.get(lease.id, lease.token) as DeletedRow | undefined;
    if (!row) return false;
    if (row.unique_key !== null) this.sql.dropUniqueOf.run(lease.id);
    const failed = { ...record, unique: uniqueOf(row.unique_key, row.unique_for_ms) };
    this.sql.insertFailed.run(failedJobRow(storableRecord(failed), this.now()));
    return true;
  }

  /**
   * SQLite has no notifications between processes. PRAGMA data_version changes whenever another
   * connection commits, and reading it costs no disk I/O. A watch on the WAL file says when to
   * read it (within a millisecond of another process's commit: sqlite-wal-watch.ts), and it is
   * also polled every `pollMs`, for when the watch is silent. The baseline is the latest claim's,
   * so a commit between that claim and this wait ends the wait at once. Writes in this process
   * wake us directly.
   */
  async waitForJobs(queues: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const version = () => this.sql.dataVersion.pluck().get() as number;
    const start = this.claimVersion ?? version();
    const now = this.now();
    // Jobs due after the latest claim count, not only those still to come: one that came due
    // between that claim and now (the claim looked a moment too early) ends the wait at once
    // instead of being slept beside. Those due at the claim and left there (a global cap) do
    // not, or the worker would spin on them.
    const after = Math.min(this.claimNow ?? now, now);
    const next = this.sql.nextDue.pluck().get({ queues: JSON.stringify(queues), after });
    timeoutMs = untilDue(timeoutMs, now, next as number | null);
    await new Promise<void>((resolve) => {
      let later: NodeJS.Timeout | undefined;
      const changed = () => {
        if (version() === start) return false;
        this.pacer.woke();
        done();
        return true;
      };
      const done = () => {
        clearInterval(poll);
        clearTimeout(timer);
        clearTimeout(later);
        watch.stop();
        signal.removeEventListener('abort', done);
        this.localWake.delete(done);
        resolve();
      };
      const poll = setInterval(changed, this.pollMs);
      const timer = setTimeout(done, timeoutMs);
      const watch = this.walWatch.listen(() => {
        if (later) return;
        // Paced (WakePacer); and the WAL is written a moment before the commit shows in
        // data_version, so a look that finds nothing looks once more shortly after.
        later = setTimeout(() => {
          if (changed()) return;
          later = setTimeout(() => {
            later = undefined;
            changed();
          }, 2);
        }, this.pacer.delay());
      });
      signal.addEventListener('abort', done);
      this.localWake.add(done);
      changed();
    });
  }

  private wakeLocal(): void {
    for (const wake of [...this.localWake]) wake();
  }

  async sizes(queues: string[]): Promise<QueueSizes[]> {
    const now = this.now();
    return queues.map((queue) => {
      const row = this.sql.sizes.get({ queue, now }) as {
        pending: number;
        delayed: number;
        reserved: number;
      };
      return {
        queue,
        pending: row.pending ?? 0,
        delayed: row.delayed ?? 0,
        reserved: row.reserved ?? 0,
      };
    });
  }

  async queues(): Promise<string[]> {
    return this.sql.queueNames.pluck().all() as string[];
  }

  async list(
    queue: string,
    state: JobState | undefined,
    offset: number,
    limit: number,
    filter?: JobFilter,
  ): Promise<JobRow[]> {
    const now = this.now();
    const tag = filter?.tag ?? null;
    const rows = this.sql.list.all({
      queue,
      now,
      state: state ?? null,
      offset,
      limit,
      tag,
    }) as Array<Record<string, unknown>>;
    return rows.map((r) => toRow(r, now));
  }

  async listPage(queue: string, query: JobPageQuery): Promise<JobPage> {
    const now = this.now();
    const reader = sqlitePageReader(this.sql, queue, {
      now,
      state: query.state ?? null,
      tag: query.tag ?? null,
      name: query.name ?? null,
    });
    const { rows, next } = await walkPage(reader, query, now);
    return { jobs: rows.map((r) => toRow(r, now)), next };
  }

  // Live-job operations: src/queue/admin/sqlite-admin.ts.

  async find(id: string): Promise<JobRow | null> {
    return sqliteAdmin(this.db).find(id);
  }

  async promote(ids: string[]): Promise<string[]> {
    return this.woken(sqliteAdmin(this.db).promote(ids));
  }

  async remove(ids: string[]): Promise<string[]> {
    return sqliteAdmin(this.db).remove(ids);
  }

  async progress(lease: Lease, value: string): Promise<boolean> {
    return sqliteAdmin(this.db).progress(lease, value);
  }

  /** Wakes this process's waits when jobs became ready; returns their ids. */
  private woken(ids: string[]): string[] {
    if (ids.length > 0) this.wakeLocal();
    return ids;
  }

  async clear(queue: string): Promise<number> {
    return this.db
      .transaction(() => {
        const now = this.now();
        this.sql.dropUniquesOfQueue.run({ queue, now });
        return this.sql.clearQueue.run({ queue, now }).changes;
      })
      .immediate();
  }

  async cancel(ids: string[], reason: string): Promise<CancelResult> {
    return sqliteCancel(this.db, ids, reason);
  }

  async cancelRequests(ids: string[]): Promise<CancelRequest[]> {
    return sqliteCancelRequests(this.db, ids);
  }

  async forgetCancels(ids: string[]): Promise<void> {
    sqliteForgetCancels(this.db, ids);
  }

  async close(): Promise<void> {
    this.wakeLocal();
    this.walWatch.close();
    if (this.db.open) this.db.close();
  }
}
