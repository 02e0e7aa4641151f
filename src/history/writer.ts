/**
 * Records finished jobs in job_history, and the attempts that did not end them in
 * job_attempts, from a worker's events, in batches off the hot path: rows are buffered and
 * written about once a second, at once when `maxRows` pile up, and on close(). Only what a job's
 * retention keeps is written (retention.ts): with the defaults a success writes nothing, and a
 * worker none of whose jobs keeps successes does not even listen for them. Write failures are
 * reported through `onError` (the worker's `worker:error`); the writer never prints and never
 * throws into the worker.
 */
import type { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { describeError } from '../failed/record.js';
import { redact } from '../logging/redact.js';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents } from '../worker/events.js';
import { resultJson } from './result-json.js';
import type { FinalStatus, RetentionTable } from './retention.js';
import { insertAttempts, insertHistory, type AttemptRow, type HistoryRow } from './store.js';

export interface HistoryWriterOptions {
  /** The SQL storage (job_history lives there for every driver). */
  knex: Knex;
  /** The driver's connection name, stored with each row (`database`, `redis`). */
  connection: string;
  retention: RetentionTable;
  /** Buffered rows are written after at most this long, ms. @defaultValue 1000 */
  flushMs?: number;
  /** This many buffered rows are written at once. @defaultValue 500 */
  maxRows?: number;
  /** A write that failed (the rows are kept for the next one, up to a bound). */
  onError(error: Error, during: string): void;
  now?: () => number;
}

/** Rows kept across failed writes; past it the oldest are dropped and the loss reported. */
const MAX_BUFFERED = 20_000;

export class HistoryWriter {
  private history: HistoryRow[] = [];
  private attempts: AttemptRow[] = [];
  private timer?: NodeJS.Timeout;
  /** The write in progress: writes run one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly maxRows: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: HistoryWriterOptions) {
    this.flushMs = options.flushMs ?? 1000;
    this.maxRows = options.maxRows ?? 500;
    this.now = options.now ?? Date.now;
  }

  /**
   * Listens to `worker`'s events. `keepsSucceeded`: whether any job it may run keeps its
   * successes (RetentionTable.keepsSucceeded); when not, successes are not listened to at all,
   * so the hot path is what it was without history. Returns a function that stops listening.
   */
  attach(worker: EventEmitter<WorkerEvents>, keepsSucceeded: boolean): () => void {
    const processed = ({ job, durationMs, result, progress }: WorkerEvents['job:processed'][0]) =>
      this.finished(job, 'succeeded', durationMs, { result, progress });
    const skipped = ({ job, durationMs }: WorkerEvents['job:skipped'][0]) =>
      this.finished(job, 'succeeded', durationMs, {});
    const failed = ({ job, durationMs, error, progress }: WorkerEvents['job:failed'][0]) =>
      this.finished(job, 'failed', durationMs, { error: describeError(error), progress });
    const cancelled = ({ job, durationMs, reason, progress }: WorkerEvents['job:cancelled'][0]) =>
      this.finished(job, 'cancelled', durationMs, { error: redact(reason), progress });
    const released = ({ job, durationMs, error, refunded }: WorkerEvents['job:released'][0]) =>
      this.attempt(job, refunded ? 'put_back' : 'released', durationMs, error);
    const abandoned = ({ job, durationMs, error }: WorkerEvents['job:abandoned'][0]) =>
      this.attempt(job, 'abandoned', durationMs, error);
    if (keepsSucceeded) {
      worker.on('job:processed', processed);
      worker.on('job:skipped', skipped);
    }
    worker.on('job:failed', failed);
    worker.on('job:cancelled', cancelled);
    worker.on('job:released', released);
    worker.on('job:abandoned', abandoned);
    return () => {
      worker.off('job:processed', processed);
      worker.off('job:skipped', skipped);
      worker.off('job:failed', failed);
      worker.off('job:cancelled', cancelled);
      worker.off('job:released', released);
      worker.off('job:abandoned', abandoned);
    };
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.history.length + this.attempts.length;
  }

  private finished(
    job: ClaimedJob,
    status: FinalStatus,
    durationMs: number,
    outcome: { result?: unknown; error?: string; progress?: string },
  ): void {
    const keepMs = this.options.retention.get(job.name, job.queue)[status];
    if (keepMs <= 0) return;
    const finishedAt = this.now();
    this.history.push({
      connection: this.options.connection,
      id: job.id,
      queue: job.queue,
      name: job.name,
      status,
      attempts: job.attempts,
      payload: job.payload,
      // Made now: the handler may change the object later, and a bad value must not reach
      // the write (result-json.ts never throws).
      result: resultJson(outcome.result),
      error: outcome.error ?? null,
      // The last value reported: by this attempt, else by an earlier one (stored with the job).
      progress: outcome.progress ?? job.progress ?? null,
      tags: job.tags?.length ? JSON.stringify(job.tags) : null,
      // When it could first run: known from the claim on the first attempt only.
      dispatched_at: job.attempts === 1 && job.readyAt !== undefined ? job.readyAt : null,
      started_at: finishedAt - durationMs,
      finished_at: finishedAt,
      runtime_ms: Math.round(durationMs),
      expires_at: finishedAt + keepMs,
    });
    this.buffered();
  }

  private attempt(job: ClaimedJob, outcome: string, durationMs: number, error: Error): void {
    const r = this.options.retention.get(job.name, job.queue);
    // Kept as long as the longest the job's end may be: its timeline needs them until then.
    const keepMs = Math.max(r.succeeded, r.failed, r.cancelled);
    if (keepMs <= 0) return;
    const endedAt = this.now();
    this.attempts.push({
      connection: this.options.connection,
      job_id: job.id,
      attempt: job.attempts,
      started_at: endedAt - durationMs,
      ended_at: endedAt,
      outcome,
      error: redact(error.message),
      expires_at: endedAt + keepMs,
    });
    this.buffered();
  }

  private buffered(): void {
    if (this.closed) return void this.flush();
    if (this.pending >= this.maxRows) return void this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      // Never what keeps a process alive: close() writes what is left.
      this.timer.unref();
    }
  }

  /** Writes what is buffered (after any write in progress). Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const history = this.history;
    const attempts = this.attempts;
    if (history.length === 0 && attempts.length === 0) return this.writing;
    this.history = [];
    this.attempts = [];
    this.writing = this.writing.then(() => this.write(history, attempts));
    return this.writing;
  }

  private async write(history: HistoryRow[], attempts: AttemptRow[]): Promise<void> {
    const { knex } = this.options;
    try {
      // Attempts first: a job's timeline is whole once its history row is there.
      if (attempts.length > 0) await insertAttempts(knex, attempts);
      attempts = [];
      if (history.length > 0) await insertHistory(knex, history);
    } catch (error) {
      if (refusesData(error)) return this.writeEach(history, attempts, error);
      this.options.onError(
        error instanceof Error ? error : new Error(String(error)),
        `writing ${history.length + attempts.length} job history rows (kept for the next write)`,
      );
      this.keep(history, attempts);
    }
  }

  /**
   * The storage refused a row's data, not the connection: kept, that row would fail every
   * later write, and the history of every job after it would be lost. Each row is written on
   * its own; those refused again are dropped, named in the error.
   */
  private async writeEach(history: HistoryRow[], attempts: AttemptRow[], cause: unknown) {
    const { knex } = this.options;
    const dropped: string[] = [];
    const transient: { history: HistoryRow[]; attempts: AttemptRow[] } = {
      history: [],
      attempts: [],
    };
    for (const row of attempts) {
      try {
        await insertAttempts(knex, [row]);
      } catch (error) {
        if (refusesData(error)) dropped.push(`${row.job_id} (attempt ${row.attempt})`);
        else transient.attempts.push(row);
      }
    }
    for (const row of history) {
      try {
        await insertHistory(knex, [row]);
      } catch (error) {
        if (refusesData(error)) dropped.push(row.id);
        else transient.history.push(row);
      }
    }
    if (dropped.length > 0) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.options.onError(
        new Error(`The storage refused the history of job(s) ${dropped.join(', ')}: ${reason}`),
        'writing job history (those rows were dropped; the others were written)',
      );
    }
    if (transient.history.length + transient.attempts.length > 0)
      this.keep(transient.history, transient.attempts);
  }

  /** Puts rows of a failed write back in front, within MAX_BUFFERED. */
  private keep(history: HistoryRow[], attempts: AttemptRow[]): void {
    this.history = history.concat(this.history);
    this.attempts = attempts.concat(this.attempts);
    const over = this.pending - MAX_BUFFERED;
    if (over > 0) {
      this.history.splice(0, Math.min(over, this.history.length));
      const still = this.pending - MAX_BUFFERED;
      if (still > 0) this.attempts.splice(0, still);
      this.options.onError(
        new Error(`${over} job history rows were dropped: the storage kept refusing them.`),
        'writing job history',
      );
    }
    if (!this.closed && !this.timer && this.pending > 0) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what is left and stops the timer; rows that come later are written at once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The storage refused a row's data, not the link: a PostgreSQL data exception or constraint
 * violation (SQLSTATE classes 22 and 23), or SQLite's own. Waiting will not make it take them.
 */
function refusesData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (/^(22|23)[0-9A-Z]{3}$/.test(code)) return true;
  return /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}
