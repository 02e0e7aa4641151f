import { InvalidCursorError, type JobRow } from '../driver.js';

/*
 * The keyset of the SQL drivers' listPage: a job's place in `list`'s order, priority (high
 * first), then ready_at (µs, when it joined the ready line), then id: the columns of
 * jobs_ready_idx (migration 0004), so a page after any job reads the index from that job on.
 * The cursor is `priority.ready_at.id` in text: opaque to callers, checked here.
 */

export interface JobKey {
  priority: number;
  /** Microseconds, as stored. */
  readyAt: number;
  id: number;
}

const CURSOR = /^(-?\d{1,10})\.(\d{1,17})\.(\d{1,17})$/;

export function jobCursor(row: Record<string, unknown>): string {
  return `${Number(row.priority)}.${Number(row.ready_at)}.${Number(row.id)}`;
}

/** The key a cursor names; InvalidCursorError for text this module did not make. */
export function parseJobCursor(text: string): JobKey {
  const match = CURSOR.exec(text);
  const key = match && {
    priority: Number(match[1]),
    readyAt: Number(match[2]),
    id: Number(match[3]),
  };
  if (!key || !Object.values(key).every(Number.isSafeInteger)) throw new InvalidCursorError();
  return key;
}

/**
 * The page out of `limit + 1` rows read in order: the first `limit`, and the cursor of the
 * last of them when there was one more.
 */
export function pageOf<R extends Record<string, unknown>>(
  rows: R[],
  limit: number,
  toRow: (row: R) => JobRow,
): { jobs: JobRow[]; next: string | null } {
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? jobCursor(page[page.length - 1]!) : null;
  return { jobs: page.map(toRow), next };
}
