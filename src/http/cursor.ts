import type { Context } from 'hono';
import { badParam } from './errors.js';

/*
 * The `after` cursor of list endpoints: what a store's keyset needs to go on from the last row
 * of a page (a driver's cursor text, a failed job's id, a finished job's time and id), as
 * base64url of its JSON, so clients treat it as one opaque word and pass `next` back as is.
 */

/** The longest cursor accepted, in characters: every keyset here fits well within it. */
const MAX_CURSOR_LENGTH = 1_000;

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * `after`, decoded and checked by `read` (which returns undefined for a value of the wrong
 * shape): undefined when absent; 400 naming `after` when it is not one of our cursors.
 */
export function cursorParam<T>(c: Context, read: (value: unknown) => T | undefined): T | undefined {
  const text = c.req.query('after');
  if (text === undefined || text === '') return undefined;
  const bad = () => badParam('after', text, 'the `next` cursor of the page before, as given');
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const read_ = read(value);
  if (read_ === undefined) throw bad();
  return read_;
}

/** A cursor that is one string (a driver's own cursor). */
export const stringCursor = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** A cursor that is one whole number ≥ 0 (an id). */
export const idCursor = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
