import type { ClaimedJob, FailedJobRecord, JobRow, JobState } from '../driver.js';
import { readTags } from '../../jobs/tags.js';
import { readHeaders } from '../headers.js';

/** Maps a `jobs` row to what listings show; the state follows from the times. */
export function toRow(r: Record<string, unknown>, now: number): JobRow {
  const availableAt = Number(r.available_at);
  const state: JobState =
    r.reserved_at != null && availableAt > now
      ? 'reserved'
      : availableAt > now
        ? 'delayed'
        : 'pending';
  return {
    id: String(r.id),
    name: r.name as string,
    queue: r.queue as string,
    state,
    priority: Number(r.priority),
    attempts: Number(r.attempts),
    maxTries: Number(r.max_tries),
    availableAt,
    createdAt: Number(r.created_at),
    lastError: (r.last_error as string | null) ?? null,
    payload: r.payload as string,
    tags: readTags(r.tags),
    progress: readProgress(r.progress),
  };
}

/** A stored progress value (JSON text) as its value; null when none or unreadable. */
export function readProgress(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * How long an idle worker waits: `timeoutMs` (its --sleep), or less when the next job comes due
 * sooner (`nextDue`, epoch ms from the storage clock, as `now`), so a delayed job starts on time.
 * A `nextDue` at or before `now` (a job that came due since the latest claim) gives 0.
 */
export function untilDue(timeoutMs: number, now: number, nextDue: number | null): number {
  if (nextDue === null) return timeoutMs;
  return Math.min(timeoutMs, Math.max(0, Number(nextDue) - now));
}

/** A row a claim returned (both dialects) as the job the worker holds under `token`. */
export function toClaimed(row: Record<string, unknown>, token: string): ClaimedJob {
  return {
    id: String(row.id),
    name: row.name as string,
    queue: row.queue as string,
    payload: row.payload as string,
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    maxTries: Number(row.max_tries),
    token,
    isolate: Boolean(row.isolated),
    lastError: (row.last_error as string | null) ?? null,
    // Most jobs have no tags: no parse, no array for them.
    tags: row.tags == null ? undefined : readTags(row.tags),
    // ready_at is in microseconds (0004_fair_claims): the millisecond the job joined the line.
    readyAt: Math.floor(Number(row.ready_at) / 1000),
    progress: row.progress == null ? undefined : String(row.progress),
    // Null for nearly every job (tracing off): no parse for them.
    headers: row.headers == null ? undefined : readHeaders(row.headers),
  };
}

/**
 * The claim's order, for rows UPDATE … RETURNING gave back in no order: priority (high
 * first), then the time the job joined the ready line, then id.
 */
export function claimOrder(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return (
    Number(b.priority) - Number(a.priority) ||
    Number(a.ready_at) - Number(b.ready_at) ||
    Number(a.id) - Number(b.id)
  );
}

/**
 * The unique key of a deleted job, for its failed_jobs row. A job stored before migration 0005
 * has a key and no window.
 */
export function uniqueOf(key: unknown, forMs: unknown): FailedJobRecord['unique'] {
  if (key == null) return undefined;
  return forMs == null ? { key: String(key) } : { key: String(key), forMs: Number(forMs) };
}
