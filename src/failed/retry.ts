import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { NewJob, QueueDriver } from '../queue/driver.js';
import type { JobHeaders } from '../queue/headers.js';
import { moveToJobsTable, type Item } from './retry-database.js';
import type { DatabaseFailedJobStore, FailedFilter, FailedJob } from './store.js';

/** Tries a retried job gets when its definition is not registered (defineJob's default). */
export const DEFAULT_TRIES = 3;

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

/** A failed unique job left in failed_jobs because another live job holds its key. */
export interface Kept {
  failed: FailedJob;
  key: string;
  /** Id of the job that holds the key. */
  heldBy: string;
}

export interface RetryOptions {
  /** Failed jobs read (and, on the database connection, moved in one transaction) at a time. @defaultValue 200 */
  pageSize?: number;
  /** Called after each job is back on its queue and gone from failed_jobs. */
  onRetried?: (retried: Retried) => void;
  /** Called for each failed job kept because its unique key is held (its row stays). */
  onKept?: (kept: Kept) => void;
}

export interface RetryCounts {
  retried: number;
  kept: number;
}

/**
 * Pushes the failed jobs matching `filter` back onto their own connection and queue, with their
 * priority, fresh attempts and the tries of their current definition, and removes them from
 * failed_jobs. Reads page by page, never the whole table.
 *
 * A unique job goes back holding its key again, for its window from now. A unique key stands
 * for one live job: when another job holds it (a new dispatch of the key, or a copy of the same
 * key retried earlier in this run), the failed job is kept, its row untouched.
 *
 * Jobs of the `database` connection move in one transaction per page (delete the failed row,
 * insert the job, take its key), so a crash can neither lose nor duplicate one, and a second
 * retry running at the same time finds the row gone and skips it. Other connections live
 * elsewhere: the job is pushed first and its failed row deleted after, so a crash in between
 * can only duplicate it (at-least-once), never lose it; a unique job cannot even be duplicated
 * so, as the next retry finds its key held by the copy that was pushed, and keeps the row.
 */
export async function retryFailedJobs(
  deps: RetryDeps,
  filter: FailedFilter,
  options: RetryOptions = {},
): Promise<RetryCounts> {
  const pageSize = options.pageSize ?? 200;
  const counts: RetryCounts = { retried: 0, kept: 0 };
  // Failures recorded while we run (a retried job failing again at once) are not for this run.
  const bounded = await boundToCurrent(deps.db.knex, filter);
  if (!bounded) return counts;
  let after = 0;
  for (;;) {
    const page = await deps.store.page(bounded, after, pageSize);
    if (page.length === 0) return counts;
    after = page[page.length - 1]!.id;
    const items = page.map((failed) => ({ failed, job: newJobFor(failed, deps.registry) }));

    const local = items.filter((i) => i.failed.connection === 'database');
    for (const moved of await moveToJobsTable(deps.db, local)) {
      if ('jobId' in moved) {
        counts.retried++;
        options.onRetried?.(retried(moved.item, deps.registry, { jobId: moved.jobId }));
      } else if ('heldBy' in moved) {
        counts.kept++;
        options.onKept?.({ failed: moved.item.failed, key: moved.key, heldBy: moved.heldBy });
      }
    }
    for (const item of items.filter((i) => i.failed.connection !== 'database')) {
      const outcome = await pushThenForget(deps, item);
      if ('heldBy' in outcome) {
        counts.kept++;
        options.onKept?.(outcome);
      } else {
        counts.retried++;
        options.onRetried?.(retried(item, deps.registry, outcome));
      }
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

/**
 * The job to push for a failed row: attempts start again from zero; a unique job keeps the key
 * it was stored with (not one computed again: the key function may have changed since) and its
 * window. A row failed before migration 0005 kept no window: its definition's is used, and
 * without a definition it goes back without a key, as retries did before. The job keeps the
 * tags it failed with (none for a row failed before migration 0019).
 */
export function newJobFor(failed: FailedJob, registry: JobRegistry): NewJob {
  const definition = registry.get(failed.name);
  const forMs =
    failed.unique?.forMs ??
    (definition?.unique ? Math.round(definition.unique.for * 1000) : undefined);
  return {
    name: failed.name,
    queue: failed.queue,
    payload: failed.payload,
    priority: failed.priority,
    maxTries: definition?.tries ?? DEFAULT_TRIES,
    delayMs: 0,
    unique:
      failed.unique && forMs !== undefined
        ? { key: failed.unique.key, forMs, stored: true }
        : undefined,
    tags: failed.tags.length > 0 ? failed.tags : undefined,
    headers: retriedHeaders(failed.headers),
  };
}

/**
 * The headers a retried job goes back with: all it failed with (a chain step's, so its chain
 * resumes; a trace link) but a batch's. A batch counts a job back in only through
 * `queue:retry-batch` (src/workflows/batches/cli-retry.ts, which sets the batch's header
 * itself); a job retried alone runs outside its batch, as it did before failed jobs kept headers.
 */
/** A batch job's and a batch callback's headers (src/workflows/batches/headers.ts). */
const BATCH_HEADERS = new Set(['jobsmith-batch', 'jobsmith-batch-callback']);

function retriedHeaders(headers: JobHeaders | undefined): JobHeaders | undefined {
  if (!headers) return undefined;
  const kept = Object.entries(headers).filter(([name]) => !BATCH_HEADERS.has(name));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

async function boundToCurrent(knex: Knex, filter: FailedFilter): Promise<FailedFilter | null> {
  const row = (await knex('failed_jobs').max({ max: 'id' }).first()) as { max: unknown };
  if (row?.max == null) return null;
  const max = Number(row.max);
  const [from, to] = filter.range ?? [0, max];
  if (from > Math.min(to, max)) return null;
  return { ...filter, range: [from, Math.min(to, max)] };
}

/**
 * For connections outside the SQL storage: push, then forget the failed row. A unique job the
 * driver deduplicates (its key is held) was not stored: its row is kept.
 */
async function pushThenForget(
  deps: RetryDeps,
  item: Item,
): Promise<{ jobId?: string; error?: Error } | Kept> {
  const driver = await deps.driver(item.failed.connection);
  let outcome: { jobId?: string; error?: Error };
  try {
    const [result] = await driver.push([item.job]);
    if (result?.deduplicated && item.job.unique) {
      return { failed: item.failed, key: item.job.unique.key, heldBy: result.id };
    }
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
