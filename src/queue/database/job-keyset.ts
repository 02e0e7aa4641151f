import { InvalidCursorError } from '../driver.js';

/*
 * The keyset of the SQL drivers' listPage: a job's place in `list`'s order, priority (high
 * first), then ready_at (µs, when it joined the ready line), then id: the columns of
 * jobs_ready_idx (migration 0004), so a page after any job reads the index from that job on.
 * The cursor is `priority.ready_at.id` in text, or `priority.end` once a page has read every
 * entry of that priority it looks at (job-page-walk.ts): opaque to callers, checked here.
 */

/** A place in the walk: after a job's key, or after every job of `priority` (`end`). */
export type JobPlace =
  { priority: number; readyAt: number; id: number; end?: false } | { priority: number; end: true };

const CURSOR = /^(-?\d{1,10})\.(?:(-?\d{1,17})\.(\d{1,17})|(end))$/;

export function jobCursor(row: Record<string, unknown>): string {
  return `${Number(row.priority)}.${Number(row.ready_at)}.${Number(row.id)}`;
}

/** The cursor of the place after every job of `priority`. */
export function endCursor(priority: number): string {
  return `${priority}.end`;
}

/** The place a cursor names; InvalidCursorError for text this module did not make. */
export function parseJobCursor(text: string): JobPlace {
  const match = CURSOR.exec(text);
  if (!match) throw new InvalidCursorError();
  const numbers = match[4]
    ? [Number(match[1])]
    : [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!numbers.every(Number.isSafeInteger)) throw new InvalidCursorError();
  const [priority, readyAt, id] = numbers as [number, number, number];
  return match[4] ? { priority, end: true } : { priority, readyAt, id };
}
