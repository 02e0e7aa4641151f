/**
 * How the batch commands show a batch (batch:list, batch:show, batch:cancel): its status,
 * progress and callbacks, as a table row, as lines, and as JSON (snake_case, ISO 8601 times,
 * as the other commands print). No storage here.
 */
import { firstLine } from '../../failed/present.js';
import type { BatchFailedJob } from './cli-failed.js';
import { batchProgress, type BatchRecord } from './store.js';

/**
 * A job_batches row as the commands read it (times in epoch ms): the row's own fields, with its
 * options read into what the commands show.
 */
export interface BatchView extends Omit<BatchRecord, 'options'> {
  allowFailures: boolean;
  /** The queue connection its jobs went to, when the batch recorded it. */
  connection: string | null;
  callbacks: BatchCallbacks;
}

/** A callback job of the batch: the job's name, and the id of the job that ran it (null: not yet). */
export interface BatchCallback {
  name: string;
  queue: string | null;
  ranAs: string | null;
}

export interface BatchCallbacks {
  then: BatchCallback | null;
  catch: BatchCallback | null;
  finally: BatchCallback | null;
}

/** cancelled (even once finished), finished, or running: what batch:list shows first. */
export type BatchStatus = 'cancelled' | 'finished' | 'running';

export function statusOf(b: BatchView): BatchStatus {
  if (b.cancelledAt !== null) return 'cancelled';
  return b.finishedAt !== null ? 'finished' : 'running';
}

/** Jobs with a final outcome: the total less the pending. */
export function processedOf(b: BatchView): number {
  return Math.max(0, b.total - b.pending);
}

/**
 * Share of the jobs with a final outcome, in whole percent, rounded down so that 100 means
 * every job is done (Laravel's `progress()` rounds, showing 100 with one job of 300 left).
 */
export function progressOf(b: BatchView): number {
  return batchProgress(b);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A batch as --json prints it. */
export function batchJson(b: BatchView) {
  return {
    id: b.id,
    name: b.name,
    status: statusOf(b),
    total: b.total,
    pending: b.pending,
    processed: processedOf(b),
    failed: b.failed,
    progress: progressOf(b),
    allow_failures: b.allowFailures,
    connection: b.connection,
    failed_job_ids: b.failedJobIds,
    callbacks: {
      then: callbackJson(b.callbacks.then),
      catch: callbackJson(b.callbacks.catch),
      finally: callbackJson(b.callbacks.finally),
    },
    created_at: iso(b.createdAt)!,
    cancelled_at: iso(b.cancelledAt),
    finished_at: iso(b.finishedAt),
  };
}

function callbackJson(c: BatchCallback | null) {
  return c === null ? null : { name: c.name, queue: c.queue, ran_as_job: c.ranAs };
}

/** A failed job of a batch as batch:show --json prints it. */
export function batchFailedJson(f: BatchFailedJob) {
  return {
    job_id: f.jobId,
    failed_job_id: f.failed?.id ?? null,
    name: f.failed?.name ?? null,
    queue: f.failed?.queue ?? null,
    reason: f.failed?.reason ?? null,
    error: f.failed ? firstLine(f.failed.exception, 500) : null,
    failed_at: f.failed?.failedAt ?? null,
  };
}

/** batch:list's columns. */
export const LIST_HEAD = [
  'ID',
  'Name',
  'Status',
  'Progress',
  'Total',
  'Pending',
  'Failed',
  'Created',
];

export function listRow(b: BatchView): Array<string | number> {
  return [
    b.id,
    b.name ?? '-',
    statusOf(b),
    `${progressOf(b)}%`,
    b.total,
    b.pending,
    b.failed,
    iso(b.createdAt)!,
  ];
}

/**
 * batch:show's lines: label, value; `cancelledJobs`: its jobs that ended cancelled;
 * `defaultConnection`: QUEUE_CONNECTION, where a batch that names no connection sent its jobs.
 */
export function showLines(
  b: BatchView,
  cancelledJobs = 0,
  defaultConnection?: string,
): Array<[string, string]> {
  const callback = (kind: keyof BatchCallbacks) => {
    const c = b.callbacks[kind];
    if (c === null) return '-';
    const state = c.ranAs !== null ? `ran as job ${c.ranAs}` : notRun(b, kind, cancelledJobs);
    return `${c.name}${c.queue ? ` on ${c.queue}` : ''} (${state})`;
  };
  return [
    ['Status', statusOf(b)],
    [
      'Progress',
      `${progressOf(b)}% (${processedOf(b)} of ${b.total} jobs done${cancelledJobs > 0 ? `, ${cancelledJobs} of them cancelled` : ''})`,
    ],
    ['Pending', String(b.pending)],
    ['Failed', `${b.failed}${b.allowFailures ? ' (failures allowed)' : ''}`],
    [
      'Connection',
      b.connection ?? (defaultConnection ? `${defaultConnection} (QUEUE_CONNECTION)` : '-'),
    ],
    ['Created', iso(b.createdAt)!],
    ['Cancelled', iso(b.cancelledAt) ?? '-'],
    ['Finished', iso(b.finishedAt) ?? '-'],
    ['Then', callback('then')],
    ['Catch', callback('catch')],
    ['Finally', callback('finally')],
  ];
}

/**
 * Why a callback has not run, as the batch stands now: not due (then after a failure, a cancel
 * or a cancelled job, catch without a failure: a queue:retry-batch can change some of that),
 * waiting for jobs, or due and not run yet (queued, or about to be).
 */
function notRun(b: BatchView, kind: keyof BatchCallbacks, cancelledJobs: number): string {
  if (kind === 'then' && b.failed > 0) return 'not due: a job failed';
  if (kind === 'then' && b.cancelledAt !== null) return 'not due: the batch was cancelled';
  // A batch resumed by queue:retry-batch: its jobs cancelled before they ran stay cancelled.
  if (kind === 'then' && cancelledJobs > 0)
    return `not due: ${cancelledJobs} job${cancelledJobs === 1 ? ' was' : 's were'} cancelled`;
  if (kind === 'catch' && b.failed === 0) return 'not due: no job failed';
  if (kind !== 'catch' && b.finishedAt === null) return 'waits for the pending jobs';
  return 'due, not run yet';
}
