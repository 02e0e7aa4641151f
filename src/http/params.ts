import type { Context } from 'hono';
import { parseDuration } from '../util/duration.js';
import { nearest } from '../cli/suggest.js';
import { badParam, HttpError } from './errors.js';

/**
 * Query parameters, validated: a bad value is a 400 that names the parameter and what it
 * accepts, never a query with a surprising filter.
 */

/** Longest accepted value of a free-text parameter (names, tags, search text), in characters. */
export const MAX_PARAM_LENGTH = 200;

/** The most rows one list request returns; page sizes are capped here (`limit`). */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export function stringParam(c: Context, name: string): string | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_PARAM_LENGTH) {
    throw badParam(name, value, `at most ${MAX_PARAM_LENGTH} characters`);
  }
  return value;
}

export function intParam(
  c: Context,
  name: string,
  options: { min?: number; max?: number; default?: number } = {},
): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return options.default;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw badParam(name, value, `a whole number ${range}`);
  }
  return n;
}

/** `limit`: rows per page, 1 to MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE. */
export function limitParam(c: Context): number {
  return intParam(c, 'limit', { min: 1, max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })!;
}

export function choiceParam<T extends string>(
  c: Context,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = stringParam(c, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw badParam(name, value, `one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** A duration back from now (`since=1h`, `90s`, `7d`), in ms. */
export function durationParam(c: Context, name: string): number | undefined {
  const value = stringParam(c, name);
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw badParam(name, value, 'a duration such as 90 (seconds), 30s, 15m, 2h or 7d');
  }
  return ms;
}

/**
 * 400 for a query parameter the endpoint does not take, naming the nearest one it does: a typo
 * (`dealy=10m`) must not be dropped silently, least of all on a write.
 */
export function onlyParams(c: Context, accepted: readonly string[]): void {
  for (const name of Object.keys(c.req.queries())) {
    if (accepted.includes(name)) continue;
    const near = nearest(name, [...accepted]);
    throw new HttpError(
      400,
      'bad_request',
      `Unknown query parameter "${name.slice(0, 40)}"${near ? ` (did you mean ${near}?)` : ''}; ${accepted.length > 0 ? `this endpoint takes ${accepted.join(', ')}` : 'this endpoint takes none'}.`,
    );
  }
}
