import { showPayload } from '../jobs/encryption/display.js';
import { redact } from '../logging/redact.js';
import type { FailedJob } from './store.js';

/**
 * The first line of an error text (its message), secrets masked, cut to `max` characters for a
 * table. Stored errors are masked when stored; listings mask again, for rows stored before that
 * and for secrets registered since.
 */
export function firstLine(text: string, max: number): string {
  const line = redact(text.split('\n', 1)[0] ?? '');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A failed job as `queue:failed --json` prints it: the failed_jobs columns, snake_case. */
export function failedJobJson(row: FailedJob) {
  return {
    id: row.id,
    uuid: row.uuid,
    connection: row.connection,
    queue: row.queue,
    name: row.name,
    attempts: row.attempts,
    priority: row.priority,
    reason: row.reason,
    exception: redact(row.exception),
    payload: showPayload(row.payload),
    original_id: row.originalId,
    failed_at: row.failedAt,
  };
}
