import type { Context } from 'hono';
import { isJobName, JOB_NAME_HELP, QUEUE_NAME, QUEUE_NAME_HELP } from '../jobs/limits.js';
import { MAX_TAG_LENGTH } from '../history/flags.js';
import { parseDuration } from '../util/duration.js';
import { parseIsoDate } from '../util/iso-date.js';
import { badParam, HttpError } from './errors.js';
import { stringParam } from './params.js';

/*
 * The filters list endpoints share (queue, name, tag, since), checked by the rules the CLI's
 * flags follow (src/queue/names.ts, src/failed/flags.ts): a bad value is a 400 naming the
 * parameter, never a filter that silently matches nothing.
 */

/** `queue`: a queue name; `required` gives a 400 naming it when it is missing. */
export function queueParam(c: Context, name = 'queue', required = false): string | undefined {
  const value = stringParam(c, name);
  if (value === undefined) {
    if (!required) return undefined;
    throw new HttpError(400, 'bad_request', `${name} is required: the queue to list.`);
  }
  if (!QUEUE_NAME.test(value)) throw badParam(name, value, `a queue name: ${QUEUE_NAME_HELP}`);
  return value;
}

/** `name`: a job name. */
export function jobNameParam(c: Context, name = 'name'): string | undefined {
  const value = stringParam(c, name);
  if (value !== undefined && !isJobName(value)) {
    throw badParam(name, value, `a job name: ${JOB_NAME_HELP}`);
  }
  return value;
}

/** `tag`: 1 to 190 characters without control characters. */
export function tagParam(c: Context, name = 'tag'): string | undefined {
  const value = stringParam(c, name);
  // eslint-disable-next-line no-control-regex
  if (value !== undefined && (value.length > MAX_TAG_LENGTH || /[\u0000-\u001f]/.test(value))) {
    throw badParam(name, value, `a tag of 1 to ${MAX_TAG_LENGTH} characters`);
  }
  return value;
}

/**
 * `since`: an ISO 8601 date/time, or a duration back from now (`2h`, a bare number in
 * seconds), as the CLI's --since; the moment, or `fallbackMs` back from now when absent.
 */
export function sinceParam(c: Context, name = 'since', fallbackMs?: number): Date | undefined {
  const value = stringParam(c, name);
  if (value === undefined) {
    return fallbackMs === undefined ? undefined : new Date(Date.now() - fallbackMs);
  }
  const ms = parseDuration(value);
  if (ms !== undefined && ms > 0) return new Date(Math.max(Date.now() - ms, -8.64e15));
  const date = parseIsoDate(value);
  if (!date) {
    throw badParam(name, value, 'an ISO 8601 date/time, or a duration such as 30m, 2h or 7d');
  }
  return date;
}
