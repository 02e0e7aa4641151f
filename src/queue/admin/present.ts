import { showPayload } from '../../jobs/encryption/display.js';
import { redact } from '../../logging/redact.js';
import type { JobRow, JobState } from '../driver.js';

/*
 * How live jobs read to users: the statuses of docs/lifecycle.md, and the JSON of queue:show
 * and queue:list (snake_case, ISO times, errors masked).
 */

/** The user-facing status of a live job: `queued` (pending or delayed) or `in_progress`. */
export type LiveStatus = 'queued' | 'in_progress';

export function statusOf(state: JobState): LiveStatus {
  return state === 'reserved' ? 'in_progress' : 'queued';
}

/** The status with the driver's state beside it, as queue:show and queue:list print it: `queued (pending)`. */
export function statusText(state: JobState): string {
  return `${statusOf(state)} (${state})`;
}

/** A live job as `--json` prints it. */
export function jobJson(r: JobRow) {
  return {
    id: r.id,
    name: r.name,
    queue: r.queue,
    status: statusOf(r.state),
    state: r.state,
    priority: r.priority,
    attempts: r.attempts,
    max_tries: r.maxTries,
    available_at: new Date(r.availableAt).toISOString(),
    created_at: new Date(r.createdAt).toISOString(),
    // Masked when stored, and again here: rows stored before, secrets registered since.
    last_error: r.lastError === null ? null : redact(r.lastError),
    payload: showPayload(r.payload),
    tags: r.tags,
    progress: r.progress,
  };
}

/** A progress value in a table cell: a number as a percentage-free number, an object as JSON. */
export function progressCell(progress: unknown, max = 30): string {
  if (progress === null || progress === undefined) return '-';
  const text = JSON.stringify(progress);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
