import type { NewJob } from '../queue/driver.js';
import { parseDuration } from '../util/duration.js';
import { isCalendarDate } from '../util/iso-date.js';
import { InvalidDispatchError, InvalidPayloadError } from './errors.js';
import {
  isPriority,
  isTries,
  MAX_WAIT_HELP,
  MAX_WAIT_MS,
  PRIORITY_HELP,
  queueNameProblem,
  TRIES_HELP,
} from './limits.js';
import { findJsonChange, sameValue, type JsonChange } from './payload-json.js';
import { mergeTags } from './tags.js';
import { sealPayload } from './encryption/cipher.js';
import { ENCRYPTED_MARK, isEnvelope } from './encryption/envelope.js';
import type { DispatchOptions, JobDefinition } from './types.js';

/** Formats zod issues as `userId: Expected number, received string`. */
export function describeSchemaError(error: unknown): string {
  const issues = (error as { issues?: Array<{ path: Array<string | number>; message: string }> })
    .issues;
  if (!issues) return String((error as Error)?.message ?? error);
  return issues
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

const OPTIONS = new Set(['queue', 'delay', 'at', 'priority', 'tries', 'connection', 'tags']);

/** The queue name checked last (see prepareJob). */
let lastQueue: unknown;

/**
 * Checks a dispatch and turns it into the row a driver stores. Throws, before anything is
 * stored: InvalidPayloadError when the payload fails the job's schema or would not read back
 * the same from its JSON (see checkPayload); InvalidDispatchError when an option is out of its
 * range (src/jobs/limits.ts) or `delay` and `at` are both given; ConfigError when the job is
 * encrypted and APP_KEY is unset or malformed.
 */
export function prepareJob<P>(
  job: JobDefinition<P>,
  payload: P,
  options: DispatchOptions = {},
): NewJob {
  // The schema checks the plain payload; only then is it sealed (defineJob({ encrypted })).
  const plain = checkPayload(job, payload);
  if (!job.encrypted && isEnvelope(payload)) {
    // The worker would take it for a sealed payload: the stored form's mark is reserved.
    throw new InvalidPayloadError(
      `Payload for job ${job.name} has the key "${ENCRYPTED_MARK}", which marks an encrypted payload; rename that key (or use defineJob({ encrypted: true })).`,
    );
  }
  const text = job.encrypted ? sealPayload(plain, job.name) : plain;
  const fail = (problem: string): never => {
    throw new InvalidDispatchError(`Cannot dispatch ${job.name}: ${problem}.`);
  };
  for (const key in options) {
    if (!OPTIONS.has(key))
      fail(`unknown option "${key}"; the options are ${[...OPTIONS].join(', ')}`);
  }
  if (options.delay !== undefined && options.at !== undefined) {
    fail('give either delay or at, not both');
  }
  let delayMs = 0;
  if (options.delay !== undefined) {
    const ms = typeof options.delay === 'number' ? options.delay : parseDuration(options.delay);
    if (ms === undefined || !(ms >= 0) || ms > MAX_WAIT_MS) {
      fail(
        `delay ${JSON.stringify(options.delay)} is not valid; use milliseconds or a duration such as 30s, ${MAX_WAIT_HELP}`,
      );
    }
    delayMs = Math.round(ms!);
  }
  let runAt: number | undefined;
  if (options.at !== undefined) {
    runAt = options.at instanceof Date ? options.at.getTime() : new Date(options.at).getTime();
    // new Date('2027-02-30') is March 2: a day the calendar lacks is refused, not moved.
    if (
      !Number.isFinite(runAt) ||
      (typeof options.at === 'string' && !isCalendarDate(options.at))
    ) {
      fail(
        `"at" ${JSON.stringify(options.at)} is not valid; use a Date, an ISO 8601 string or epoch milliseconds`,
      );
    }
  }
  const queue = options.queue ?? job.queue;
  // Most dispatches name the queue of the one before: it was checked then.
  if (queue !== lastQueue) {
    const queueProblem = queueNameProblem(queue);
    if (queueProblem) fail(queueProblem);
    lastQueue = queue;
  }
  const priority = options.priority ?? job.priority;
  if (!isPriority(priority)) fail(`priority must be ${PRIORITY_HELP}, got ${priority}`);
  const tries = options.tries ?? job.tries;
  if (!isTries(tries)) fail(`tries must be ${TRIES_HELP}, got ${tries}`);
  const tags =
    job.tags === undefined && options.tags === undefined
      ? undefined
      : mergeTags(job.tags?.(payload), options.tags, fail);
  return {
    name: job.name,
    queue,
    payload: text,
    priority,
    maxTries: tries,
    delayMs,
    runAt,
    unique: job.unique
      ? // Whole ms, as every stored time: a fraction broke PostgreSQL's bigint columns.
        { key: job.unique.key(payload), forMs: Math.round(job.unique.for * 1000) }
      : undefined,
    tags,
  };
}

/**
 * The payload as JSON text, once it is known that the handler will get what was dispatched:
 * the schema (if any) passes it, and passes what JSON gives back. JSON turns a Date into a
 * string, a Map into {}, NaN into null...: without a schema such a value is refused; with one,
 * it is fine if the schema reads the stored form back to the same value (`z.coerce.date()`).
 */
function checkPayload<P>(job: JobDefinition<P>, payload: P): string {
  const change = findJsonChange(payload);
  if (!job.schema) {
    if (change) {
      throw new InvalidPayloadError(
        `Payload for job ${job.name} would change when stored as JSON: ${where(change)} is ${change.what}; ${change.fix}.`,
      );
    }
    return JSON.stringify(payload ?? null);
  }
  const given = job.schema.safeParse(payload);
  if (!given.success) {
    throw new InvalidPayloadError(
      `Invalid payload for job ${job.name}: ${describeSchemaError(given.error)}`,
    );
  }
  if (!change) return JSON.stringify(payload ?? null);
  // Rare: only a payload with a value JSON changes pays for the round trip.
  let text: string;
  try {
    text = JSON.stringify(payload ?? null);
  } catch {
    throw new InvalidPayloadError(
      `Payload for job ${job.name} cannot be stored as JSON: ${where(change)} is ${change.what}; ${change.schemaFix}.`,
    );
  }
  const stored = job.schema.safeParse(JSON.parse(text));
  if (!stored.success) {
    throw new InvalidPayloadError(
      `Invalid payload for job ${job.name} once stored as JSON: ${describeSchemaError(stored.error)} (${where(change)} is ${change.what}). Fix: ${change.schemaFix}.`,
    );
  }
  if (!sameValue(given.data, stored.data)) {
    throw new InvalidPayloadError(
      `Payload for job ${job.name} would reach its handler changed: ${where(change)} is ${change.what}, and the schema lets that through. Fix: ${change.schemaFix}.`,
    );
  }
  return text;
}

function where(change: JsonChange): string {
  return change.path === '' ? 'the payload' : change.path;
}
