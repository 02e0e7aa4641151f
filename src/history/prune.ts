/**
 * Pruning job_history and job_attempts: `run queue:prune-history` deletes every expired row
 * (or every row), a batch at a time so no statement holds the table long; the worker's
 * HistoryPruner deletes at most a bounded number of expired rows a minute, so a backlog of
 * expired history never competes with the jobs for the storage.
 */
import type { Knex } from 'knex';
import type { FinalStatus } from './retention.js';
import { pruneAttemptsBatch, pruneHistoryBatch } from './store.js';

/** Rows deleted by one statement. */
export const PRUNE_BATCH = 200;

export interface PruneOptions {
  /** Delete every row, expired or not. */
  all?: boolean;
  /** Only job_history rows of this status (job_attempts are left alone then). */
  status?: FinalStatus;
  /** Stop after about this many rows in all. @defaultValue no bound */
  budget?: number;
  now?: number;
}

export interface PruneResult {
  history: number;
  attempts: number;
}

/** Deletes expired rows (or all, or those of one status), batch by batch, within `budget`. */
export async function pruneHistory(knex: Knex, options: PruneOptions = {}): Promise<PruneResult> {
  const budget = options.budget ?? Number.POSITIVE_INFINITY;
  const expiredBefore = options.all ? undefined : (options.now ?? Date.now());
  const done: PruneResult = { history: 0, attempts: 0 };
  const left = () => budget - done.history - done.attempts;
  while (left() > 0) {
    const limit = Math.min(PRUNE_BATCH, left());
    const n = await pruneHistoryBatch(knex, { expiredBefore, status: options.status, limit });
    done.history += n;
    if (n < limit) break;
  }
  if (options.status) return done;
  while (left() > 0) {
    const limit = Math.min(PRUNE_BATCH, left());
    const n = await pruneAttemptsBatch(knex, { expiredBefore, limit });
    done.attempts += n;
    if (n < limit) break;
  }
  return done;
}

/** The worker's pruning: at most this many rows a minute. */
export const PRUNE_BUDGET_PER_MINUTE = 1000;

/**
 * Deletes expired history while a worker runs: once a minute, at most
 * PRUNE_BUDGET_PER_MINUTE rows, in batches of PRUNE_BATCH. Several workers on one storage each
 * prune; a batch another worker deleted first is simply found empty.
 */
export class HistoryPruner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly o: {
      knex: Knex;
      onError(error: Error, during: string): void;
      /** @defaultValue 60000 */
      intervalMs?: number;
      /** @defaultValue PRUNE_BUDGET_PER_MINUTE */
      budget?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.prune(), this.o.intervalMs ?? 60_000);
    this.timer.unref();
  }

  /** One round (also what the timer runs); never rejects. */
  prune(): Promise<void> {
    this.running ??= pruneHistory(this.o.knex, {
      budget: this.o.budget ?? PRUNE_BUDGET_PER_MINUTE,
    })
      .then(
        () => {},
        (error: unknown) =>
          this.o.onError(
            error instanceof Error ? error : new Error(String(error)),
            'pruning expired job history',
          ),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
