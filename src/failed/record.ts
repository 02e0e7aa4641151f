import { randomUUID } from 'node:crypto';
import { storedTags } from '../jobs/tags.js';
import { redact } from '../logging/redact.js';
import { storedHeaders } from '../queue/headers.js';
import type { ClaimedJob, FailReason, FailedJobRecord } from '../queue/driver.js';

/** The error with its causes, as stored in failed_jobs.exception; secrets redacted. */
export function describeError(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(
      (depth ? 'Caused by: ' : '') + (current.stack ?? `${current.name}: ${current.message}`),
    );
    current = current.cause;
  }
  return redact(parts.join('\n'));
}

export function failedRecord(
  connection: string,
  job: ClaimedJob,
  reason: FailReason,
  error: Error,
): FailedJobRecord {
  return {
    uuid: randomUUID(),
    connection,
    queue: job.queue,
    name: job.name,
    payload: job.payload,
    exception: describeError(error),
    reason,
    attempts: job.attempts,
    priority: job.priority,
    originalId: job.id,
    tags: job.tags,
    headers: job.headers,
  };
}

/** A record as the columns of `failed_jobs`, failed at `failedAt` (epoch ms). */
export function failedJobRow(record: FailedJobRecord, failedAt: number) {
  return {
    uuid: record.uuid,
    connection: record.connection,
    queue: record.queue,
    name: record.name,
    payload: record.payload,
    exception: record.exception,
    reason: record.reason,
    attempts: record.attempts,
    priority: record.priority,
    original_id: record.originalId,
    unique_key: record.unique?.key ?? null,
    unique_for_ms: record.unique?.forMs ?? null,
    tags: storedTags(record.tags),
    headers: storedHeaders(record.headers),
    failed_at: failedAt,
  };
}
