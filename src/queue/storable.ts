import { redact } from '../logging/redact.js';
import {
  ERROR_MAX,
  EXCEPTION_MAX,
  storableKey,
  storableMessage,
  storableText,
} from '../util/stored-text.js';
import { wholeMs, wholeTime } from '../util/whole.js';
import type { FailedJobRecord, NewJob } from './driver.js';

/*
 * The storage boundary of every queue driver: what a driver writes goes through one of these
 * first, so the same job, key and error come back on SQLite, PostgreSQL and Redis (see
 * src/util/stored-text.ts and src/util/whole.ts for the rules).
 */

/**
 * A job as it is stored: whole milliseconds for its times, its unique key encoded when the key
 * cannot be stored as it is (so deduplication still holds), and text the storage accepts.
 * Returns `job` itself when nothing needs to change (the common case: no copy per job).
 */
export function storableJob(job: NewJob): NewJob {
  const delayMs = wholeMs(job.delayMs);
  const runAt = job.runAt === undefined ? undefined : wholeTime(job.runAt);
  const key = job.unique
    ? job.unique.stored
      ? job.unique.key
      : storableKey(job.unique.key)
    : undefined;
  const forMs = job.unique ? wholeMs(job.unique.forMs) : undefined;
  const payload = storableText(job.payload);
  if (
    delayMs === job.delayMs &&
    runAt === job.runAt &&
    key === job.unique?.key &&
    forMs === job.unique?.forMs &&
    payload === job.payload
  ) {
    return job;
  }
  return {
    ...job,
    payload,
    delayMs,
    runAt,
    unique: job.unique ? { ...job.unique, key: key!, forMs: forMs! } : undefined,
  };
}

/**
 * An error message kept with a job that waits for its next attempt: secrets masked, storable,
 * and at most ERROR_MAX characters (the cut is noted). `undefined` stays undefined.
 */
export function storableError(message: string | undefined): string | undefined {
  return message === undefined ? undefined : storableMessage(redact(message), ERROR_MAX);
}

/** `failed_jobs.original_id` holds 64 characters; a Redis id is `<queue>:<id>`, up to 201. */
const ORIGINAL_ID_MAX = 64;

/**
 * A failed_jobs row as it is stored: its exception masked, storable and bounded; its original
 * id encoded if the column cannot hold it (a Redis job on a queue with a long name).
 */
export function storableRecord(record: FailedJobRecord): FailedJobRecord {
  const exception = storableMessage(redact(record.exception), EXCEPTION_MAX);
  const originalId = storableKey(record.originalId, ORIGINAL_ID_MAX);
  return exception === record.exception && originalId === record.originalId
    ? record
    : { ...record, exception, originalId };
}
