import type { NewJob } from '../queue/driver.js';
import { parseDuration } from '../util/duration.js';
import { InvalidPayloadError } from './errors.js';
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

/**
 * Checks a payload against the job's schema and turns a dispatch into the row a driver stores.
 * The payload is stored as given (JSON); the schema runs again when the job runs.
 */
export function prepareJob<P>(
  job: JobDefinition<P>,
  payload: P,
  options: DispatchOptions = {},
): NewJob {
  if (job.schema) {
    const result = job.schema.safeParse(payload);
    if (!result.success) {
      throw new InvalidPayloadError(
        `Invalid payload for job ${job.name}: ${describeSchemaError(result.error)}`,
      );
    }
  }
  let text: string;
  try {
    text = JSON.stringify(payload ?? null);
  } catch (error) {
    throw new InvalidPayloadError(
      `Payload for job ${job.name} is not serialisable as JSON: ${(error as Error).message}`,
    );
  }
  let delayMs = 0;
  if (options.delay !== undefined) {
    const ms = typeof options.delay === 'number' ? options.delay : parseDuration(options.delay);
    if (ms === undefined || ms < 0)
      throw new InvalidPayloadError(
        `Invalid delay ${JSON.stringify(options.delay)}: use milliseconds or a duration such as 30s.`,
      );
    delayMs = ms;
  }
  let runAt: number | undefined;
  if (options.at !== undefined) {
    runAt = new Date(options.at).getTime();
    if (Number.isNaN(runAt))
      throw new InvalidPayloadError(
        `Invalid "at" ${JSON.stringify(options.at)}: use a Date or an ISO 8601 string.`,
      );
  }
  const tries = options.tries ?? job.tries;
  if (!Number.isInteger(tries) || tries < 1)
    throw new InvalidPayloadError(`tries must be a whole number ≥ 1, got ${tries}.`);
  return {
    name: job.name,
    queue: options.queue ?? job.queue,
    payload: text,
    priority: options.priority ?? job.priority,
    maxTries: tries,
    delayMs,
    runAt,
    unique: job.unique ? { key: job.unique.key(payload), forMs: job.unique.for * 1000 } : undefined,
  };
}
