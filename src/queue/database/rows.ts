import type { FailedJobRecord, JobRow, JobState } from '../driver.js';

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
  };
}

/**
 * The unique key of a deleted job, for its failed_jobs row. A job stored before migration 0005
 * has a key and no window.
 */
export function uniqueOf(key: unknown, forMs: unknown): FailedJobRecord['unique'] {
  if (key == null) return undefined;
  return forMs == null ? { key: String(key) } : { key: String(key), forMs: Number(forMs) };
}
