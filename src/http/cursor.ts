import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { badParam } from './errors.js';

/*
 * The `after` cursor of list endpoints: what a store's keyset needs to go on from the last row
 * of a page (a driver's cursor text, a failed job's id, a finished job's time and id), as
 * base64url of its JSON, so clients treat it as one opaque word and pass `next` back as is.
 *
 * A cursor is bound to its listing: the path and every query parameter but `after` and `limit`
 * (the page size may change between pages). One passed back with other filters (a `state` or a
 * `queue` changed, the cursor kept) would page a listing it was not made in, silently empty or
 * skipping rows: it is refused with 400 naming `after`.
 */

/** The longest cursor accepted, in characters: every keyset here fits well within it. */
const MAX_CURSOR_LENGTH = 1_000;

/** Query parameters that may change between pages of one listing. */
const PAGING = new Set(['after', 'limit']);

/** `{ l, v }`: the listing the cursor belongs to (a short hash) and the keyset's value. */
interface Stored {
  l: string;
  v: unknown;
}

/** The cursor of `c`'s listing that goes on after `value`. */
export function encodeCursor(c: Context, value: unknown): string {
  const stored: Stored = { l: listingOf(c), v: value };
  return Buffer.from(JSON.stringify(stored), 'utf8').toString('base64url');
}

/**
 * `after`, decoded and checked by `read` (which returns undefined for a value of the wrong
 * shape): undefined when absent; 400 naming `after` when it is not one of our cursors, or is
 * one of another listing (other filters).
 */
export function cursorParam<T>(c: Context, read: (value: unknown) => T | undefined): T | undefined {
  const text = c.req.query('after');
  if (text === undefined || text === '') return undefined;
  const bad = () => badParam('after', text, 'the `next` cursor of the page before, as given');
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad();
  let stored: unknown;
  try {
    stored = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (stored === null || typeof stored !== 'object' || typeof (stored as Stored).l !== 'string')
    throw bad();
  if ((stored as Stored).l !== listingOf(c)) {
    throw badParam(
      'after',
      text,
      'this cursor belongs to a listing with other filters: pass the same filters as the page before, or start again without `after`',
    );
  }
  const value = read((stored as Stored).v);
  if (value === undefined) throw bad();
  return value;
}

/** A short digest of the path and the filters (every query parameter but `after` and `limit`). */
function listingOf(c: Context): string {
  const url = new URL(c.req.url);
  const filters = [...url.searchParams]
    .filter(([name]) => !PAGING.has(name))
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
  const text = JSON.stringify([url.pathname, filters]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 10);
}

/** A cursor that is one string (a driver's own cursor). */
export const stringCursor = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** A cursor that is one whole number ≥ 0 (an id). */
export const idCursor = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
