import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents } from '../worker/events.js';
import { toError } from '../worker/executor.js';
import {
  beatWorker,
  deleteWorker,
  insertWorker,
  pruneWorkers,
  type CurrentJob,
  type WorkerEntry,
} from './store.js';

/** How often a worker rewrites its registry row at most, ms. */
export const HEARTBEAT_MS = 5000;
/** A row whose heartbeat is older than this is shown as stale, ms: 3 heartbeats, and 30 s. */
export const STALE_AFTER_MS = 30_000;
/** A stale row is deleted by the next worker that prunes, this long after its heartbeat, ms. */
export const PRUNE_AFTER_MS = 3_600_000;
/** A worker prunes about this often, ms, at most PRUNE_LIMIT rows at a time. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_LIMIT = 100;
/** How long a stopping worker waits for its row's delete, ms. */
const STOP_WAIT_MS = 3000;
/** Current jobs listed in the row; `running` counts them all. */
const LISTED_JOBS = 100;

/** The worker being registered: its events, and what the row says about it. */
export interface Registered {
  events: EventEmitter<WorkerEvents>;
  name: string;
  connection: string;
  queues: string[];
  concurrency: number;
  /** The worker's lease, ms: a worker on short leases beats as often as it renews them. */
  leaseMs: number;
}

/**
 * Keeps a worker's row in the workers registry (`run workers:list`): added on start, rewritten
 * every few seconds on its own timer (off the claim loop, one statement), deleted on a clean
 * stop. Counts and current jobs come from the worker's events. A registry the storage refuses
 * is reported and never stops the worker.
 */
export class WorkerRegistration {
  readonly id = randomUUID();
  private processed = 0;
  private failed = 0;
  private readonly current = new Map<string, CurrentJob>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private registered = false;
  private failing = false;
  private prunedAt = 0;
  private readonly detach: () => void;

  constructor(
    private readonly knex: Knex,
    private readonly worker: Registered,
    private readonly onError: (error: Error) => void,
  ) {
    this.detach = this.listen();
  }

  /** Rewrites happen this often, ms: every third of the lease when that is shorter than 5 s. */
  get intervalMs(): number {
    return Math.max(250, Math.min(HEARTBEAT_MS, Math.floor(this.worker.leaseMs / 3)));
  }

  private listen(): () => void {
    const e = this.worker.events;
    const started = ({ job }: { job: ClaimedJob }) => {
      this.current.set(job.id, {
        id: job.id,
        name: job.name,
        queue: job.queue,
        startedAt: Date.now(),
      });
    };
    const ended = ({ job }: { job: ClaimedJob }) => void this.current.delete(job.id);
    const done = ({ job }: { job: ClaimedJob }) => {
      this.processed++;
      this.current.delete(job.id);
    };
    const failed = ({ job }: { job: ClaimedJob }) => {
      this.failed++;
      done({ job });
    };
    // A released job whose attempt was refunded (a rate limit, a lock) did not run: the worker
    // does not count it either (worker:stopped).
    const released = ({ job, refunded }: { job: ClaimedJob; refunded: boolean }) =>
      refunded ? ended({ job }) : done({ job });
    const handlers = [
      ['job:processing', started],
      ['job:processed', done],
      ['job:cancelled', done],
      ['job:skipped', done],
      ['job:failed', failed],
      ['job:released', released],
      ['job:abandoned', ended],
      ['job:lost', ended],
    ] as const;
    for (const [event, handler] of handlers) e.on(event, handler as never);
    return () => {
      for (const [event, handler] of handlers) e.off(event, handler as never);
    };
  }

  private entry(): WorkerEntry {
    const { name, connection, queues, concurrency } = this.worker;
    return {
      id: this.id,
      name,
      host: hostname(),
      pid: process.pid,
      connection,
      queues,
      concurrency,
      processed: this.processed,
      failed: this.failed,
      running: this.current.size,
      currentJobs: [...this.current.values()].slice(0, LISTED_JOBS),
    };
  }

  /** Adds the row, prunes rows long stale, and beats every intervalMs until stop(). */
  async start(): Promise<void> {
    // A storage that refuses the first write is left to the worker to report (it stops on a
    // read-only or broken file at once, exit 14, naming the fix); a later beat that still fails
    // is reported here (a redis worker whose SQL storage is down claims on regardless).
    this.quietOnce = true;
    await this.write(async () => {
      await insertWorker(this.knex, this.entry());
      this.registered = true;
      await this.prune();
    });
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * One write at a time: a slow storage never piles beats up. A storage that keeps refusing is
   * reported once, not on every beat, until a write goes through again.
   */
  /** The next failed write is not reported (the first one, at start). */
  private quietOnce = false;

  private async write(fn: () => Promise<void>): Promise<void> {
    const next = this.writing
      .then(fn)
      .then(() => {
        this.failing = false;
      })
      .catch((error: unknown) => {
        if (this.quietOnce) return;
        if (!this.failing) this.onError(withoutSql(toError(error)));
        this.failing = true;
      })
      .finally(() => {
        this.quietOnce = false;
      });
    this.writing = next;
    await next;
  }

  private beat(): Promise<void> {
    return this.write(async () => {
      await beatWorker(this.knex, this.entry());
      this.registered = true;
      await this.prune();
    });
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    await pruneWorkers(this.knex, PRUNE_AFTER_MS, PRUNE_LIMIT);
  }

  /**
   * Stops beating and deletes the row (the worker exits cleanly). Waits STOP_WAIT_MS at most: a
   * storage that hangs (the worker exits 14 because of it) must not hold the exit up; the row
   * then turns stale and is pruned.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.detach();
    const deleted = this.write(async () => {
      if (this.registered) await deleteWorker(this.knex, this.id);
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
      timer.unref();
    });
    await Promise.race([deleted, waited]);
    clearTimeout(timer);
  }
}

/**
 * Registers a `queue:work` worker: its row is added now and kept until the returned
 * registration's stop(). Registry failures are reported as the worker's own errors.
 */
export async function registerWorker(
  knex: Knex,
  worker: EventEmitter<WorkerEvents>,
  o: { name: string; connection: string; queues: string[]; concurrency: number; leaseMs: number },
): Promise<WorkerRegistration> {
  const registration = new WorkerRegistration(knex, { events: worker, ...o }, (error) =>
    worker.emit('worker:error', { error, during: 'workers registry' }),
  );
  await registration.start();
  return registration;
}

/** knex prefixes a driver's message with the statement ("insert into ... - reason"): keep the reason. */
function withoutSql(error: Error): Error {
  const cut = error.message.lastIndexOf(' - ');
  if (cut < 0 || !/^(insert|update|delete|select|with) /i.test(error.message)) return error;
  return new Error(`Could not write to the workers table: ${error.message.slice(cut + 3)}`, {
    cause: error,
  });
}
