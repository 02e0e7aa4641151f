import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import type { JobRegistry } from '../jobs/registry.js';
import { CHANNEL, NOW as PG_NOW } from '../queue/database/postgres-sql.js';
import type { NewJob, QueueDriver } from '../queue/driver.js';
import type { DatabaseFailedJobStore, FailedFilter, FailedJob } from './store.js';

/** Tries a retried job gets when its definition is not registered (defineJob's default). */
export const DEFAULT_TRIES = 3;

/** The SQLite database clock in epoch ms, as the SQLite queue reads it (sqlite-sql.ts). */
const SQLITE_NOW = `cast(unixepoch('subsec') * 1000 as integer)`;

export interface RetryDeps {
  db: Database;
  store: DatabaseFailedJobStore;
  registry: JobRegistry;
  /** The queue driver of a connection by name (`app.queues().get`). */
  driver: (connection: string) => Promise<QueueDriver>;
}

/** One failed job pushed back onto its queue. */
export interface Retried {
  failed: FailedJob;
  /** Id of the new job in its connection. */
  jobId?: string;
  /** No definition of this name is registered: the job will fail again until one is. */
  unregistered: boolean;
  /** On the `sync` connection the job runs at once: the error when it failed again. */
  error?: Error;
}

export interface RetryOptions {
  /** Failed jobs read (and, on the database connection, moved in one transaction) at a time. @defaultValue 200 */
  pageSize?: number;
  /** Called after each job is back on its queue and gone from failed_jobs. */
  onRetried?: (retried: Retried) => void;
}

interface Item {
  failed: FailedJob;
  job: NewJob;
}

/**
 * Pushes the failed jobs matching `filter` back onto their own connection and queue, with their
 * priority, fresh attempts and the tries of their current definition, and removes them from
 * failed_jobs. Reads page by page, never the whole table. Returns how many were retried.
 *
 * Jobs of the `database` connection move in one transaction per page (delete the failed row,
 * insert the job), so a crash can neither lose nor duplicate one, and a second retry running at
 * the same time finds the row gone and skips it. Other connections live elsewhere: the job is
 * pushed first and its failed row deleted after, so a crash in between can only duplicate it
 * (at-least-once), never lose it.
 */
export async function retryFailedJobs(
  deps: RetryDeps,
  filter: FailedFilter,
  options: RetryOptions = {},
): Promise<number> {
  const pageSize = options.pageSize ?? 200;
  // Failures recorded while we run (a retried job failing again at once) are not for this run.
  const bounded = await boundToCurrent(deps.db.knex, filter);
  if (!bounded) return 0;
  let total = 0;
  let after = 0;
  for (;;) {
    const page = await deps.store.page(bounded, after, pageSize);
    if (page.length === 0) return total;
    after = page[page.length - 1]!.id;
    const items = page.map((failed) => ({ failed, job: newJobFor(failed, deps.registry) }));

    const local = items.filter((i) => i.failed.connection === 'database');
    for (const done of await moveToJobsTable(deps.db, local)) {
      total++;
      options.onRetried?.(retried(done.item, deps.registry, { jobId: done.jobId }));
    }
    for (const item of items.filter((i) => i.failed.connection !== 'database')) {
      const outcome = await pushThenForget(deps, item);
      total++;
      options.onRetried?.(retried(item, deps.registry, outcome));
    }
  }
}

/** Resolves ids and uuids to failed job ids; those that match no row come back as `missing`. */
export async function resolveFailedJobs(
  store: DatabaseFailedJobStore,
  refs: string[],
): Promise<{ ids: number[]; missing: string[] }> {
  const ids: number[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    const row = await store.find(ref);
    if (row) ids.push(row.id);
    else missing.push(ref);
  }
  return { ids: [...new Set(ids)], missing };
}

/** The job to push for a failed row: attempts start again from zero. */
export function newJobFor(failed: FailedJob, registry: JobRegistry): NewJob {
  return {
    name: failed.name,
    queue: failed.queue,
    payload: failed.payload,
    priority: failed.priority,
    maxTries: registry.get(failed.name)?.tries ?? DEFAULT_TRIES,
    delayMs: 0,
  };
}

async function boundToCurrent(knex: Knex, filter: FailedFilter): Promise<FailedFilter | null> {
  const row = (await knex('failed_jobs').max({ max: 'id' }).first()) as { max: unknown };
  if (row?.max == null) return null;
  const max = Number(row.max);
  const [from, to] = filter.range ?? [0, max];
  if (from > Math.min(to, max)) return null;
  return { ...filter, range: [from, Math.min(to, max)] };
}

/** Moves failed rows of the `database` connection back into `jobs`, in one transaction. */
async function moveToJobsTable(
  db: Database,
  items: Item[],
): Promise<Array<{ item: Item; jobId: string }>> {
  if (items.length === 0) return [];
  const now = db.knex.raw(db.dialect === 'pgsql' ? PG_NOW : SQLITE_NOW);
  return db.knex.transaction(async (trx) => {
    const done: Array<{ item: Item; jobId: string }> = [];
    for (const item of items) {
      // Delete first: the row is ours only if we removed it (a concurrent retry skips it), and
      // on SQLite a transaction that starts with a write takes the write lock at once.
      const deleted = await trx('failed_jobs').where('id', item.failed.id).delete();
      if (deleted !== 1) continue;
      const { job } = item;
      const [inserted] = await trx('jobs')
        .insert({
          queue: job.queue,
          name: job.name,
          payload: job.payload,
          priority: job.priority,
          attempts: 0,
          max_tries: job.maxTries,
          available_at: now,
          created_at: now,
        })
        .returning('id');
      done.push({ item, jobId: String((inserted as { id: unknown }).id) });
    }
    if (db.dialect === 'pgsql' && done.length > 0) {
      // One NOTIFY per transaction wakes idle workers on these queues (see postgres-queue.ts).
      const queues = [...new Set(done.map((d) => d.item.job.queue))];
      await trx.raw(`select pg_notify('${CHANNEL}', ?)`, [queues.join(',')]);
    }
    return done;
  });
}

/** For connections outside the SQL storage: push, then forget the failed row. */
async function pushThenForget(
  deps: RetryDeps,
  item: Item,
): Promise<{ jobId?: string; error?: Error }> {
  const driver = await deps.driver(item.failed.connection);
  let outcome: { jobId?: string; error?: Error };
  try {
    const [result] = await driver.push([item.job]);
    outcome = { jobId: result?.id };
  } catch (error) {
    // The sync driver runs the job inline; when it fails again it has recorded a new failed
    // job itself, so the old row goes all the same. Any other error keeps the row.
    if (driver.connection !== 'sync') throw error;
    outcome = { error: error instanceof Error ? error : new Error(String(error)) };
  }
  await deps.store.forget([item.failed.id]);
  return outcome;
}

function retried(
  item: Item,
  registry: JobRegistry,
  outcome: { jobId?: string; error?: Error },
): Retried {
  return {
    failed: item.failed,
    ...outcome,
    unregistered: registry.get(item.failed.name) === undefined,
  };
}
