import { ConfigError } from '../errors.js';
import { CONNECTIONS } from '../queue/connections.js';
import {
  isJobName,
  isPriority,
  isTries,
  JOB_NAME_HELP,
  MAX_TIMER_HELP,
  MAX_TIMER_MS,
  MAX_WAIT_HELP,
  MAX_WAIT_MS,
  PRIORITY_HELP,
  queueNameProblem,
  TRIES_HELP,
} from './limits.js';
import { checkBackoff } from './backoff.js';
import { skipIf } from './middleware.js';
import { breakerMiddleware } from '../flow/breakers/middleware.js';
import { PROBE_LEASE_MARGIN_MS, resolveBreaker } from '../flow/breakers/settings.js';
import { retainProblem } from '../history/retention.js';
import type { JobDefinition, JobOptions } from './types.js';

const OPTIONS = new Set([
  'name',
  'queue',
  'schema',
  'tries',
  'backoff',
  'timeout',
  'priority',
  'connection',
  'unique',
  'tags',
  'middleware',
  'breaker',
  'retain',
  'encrypted',
  'handle',
  'failed',
]);

/**
 * Declares a job. The returned definition is passed to `defineConfig({ jobs })` and `dispatch`.
 * Every option is checked here, against the ranges in src/jobs/limits.ts, so a wrong one fails
 * when the config loads (ConfigError naming the job and the option), not when the job runs.
 */
export function defineJob<P>(options: JobOptions<P>): JobDefinition<P> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('defineJob takes an object: defineJob({ name, handle(payload) {...} }).');
  }
  if (!isJobName(options.name)) {
    throw new ConfigError(
      `Invalid job name ${JSON.stringify(options.name)}: use ${JOB_NAME_HELP}.`,
    );
  }
  const fail = (problem: string): never => {
    throw new ConfigError(`Job ${options.name}: ${problem}.`);
  };
  const unknown = Object.keys(options).filter((k) => !OPTIONS.has(k));
  if (unknown.length > 0) {
    fail(
      `unknown option ${unknown.map((k) => `"${k}"`).join(', ')}; the options are ${[...OPTIONS].join(', ')}`,
    );
  }
  if (typeof options.handle !== 'function') {
    fail('handle must be a function: defineJob({ ..., async handle(payload, ctx) {...} })');
  }
  if (options.failed !== undefined && typeof options.failed !== 'function') {
    fail('failed must be a function when given');
  }
  const queue = options.queue ?? 'default';
  const queueProblem = queueNameProblem(queue);
  if (queueProblem) fail(queueProblem);
  const tries = options.tries ?? 3;
  if (!isTries(tries)) fail(`tries must be ${TRIES_HELP}, got ${tries}`);
  const timeout = options.timeout ?? 60;
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout * 1000 > MAX_TIMER_MS) {
    fail(`timeout must be a positive number of seconds, ${MAX_TIMER_HELP}; got ${timeout}`);
  }
  const priority = options.priority ?? 0;
  if (!isPriority(priority)) fail(`priority must be ${PRIORITY_HELP}, got ${priority}`);
  const backoff = options.backoff ?? [10, 30, 60];
  const backoffProblem = checkBackoff(backoff);
  if (backoffProblem) fail(backoffProblem);
  const { schema, unique, connection } = options;
  if (
    schema !== undefined &&
    typeof (schema as { safeParse?: unknown })?.safeParse !== 'function'
  ) {
    fail('schema must be a zod schema, such as z.object({ userId: z.number() })');
  }
  if (unique !== undefined) {
    if (typeof unique !== 'object' || unique === null || typeof unique.key !== 'function') {
      fail('unique must be { key: (payload) => string, for: seconds }');
    }
    if (!isSeconds(unique.for) || unique.for <= 0) {
      fail(`unique.for must be a positive number of seconds, ${MAX_WAIT_HELP}; got ${unique.for}`);
    }
  }
  if (connection !== undefined && !(CONNECTIONS as readonly unknown[]).includes(connection)) {
    fail(
      `connection ${JSON.stringify(connection)} is not valid; use one of: ${CONNECTIONS.join(', ')}`,
    );
  }
  if (options.tags !== undefined && typeof options.tags !== 'function') {
    fail("tags must be a function of the payload: tags: (payload) => ['user:' + payload.id]");
  }
  const retainIssue =
    options.retain === undefined ? undefined : retainProblem(options.retain, 'retain');
  if (retainIssue) fail(retainIssue);
  if (options.encrypted !== undefined && typeof options.encrypted !== 'boolean') {
    fail(`encrypted must be true or false, got ${describeValue(options.encrypted)}`);
  }
  const middlewareProblem = checkMiddleware(options.middleware);
  if (middlewareProblem) fail(middlewareProblem);
  // A probe holds its breaker for as long as the job may run, and the stuck grace after.
  const breaker =
    options.breaker === undefined
      ? undefined
      : resolveBreaker(
          options.breaker,
          `Job ${options.name}`,
          timeout * 1000 + PROBE_LEASE_MARGIN_MS,
        );
  // The breaker comes first: a job it holds back runs none of the other middleware.
  const chain = breaker
    ? [breakerMiddleware<P>(breaker), ...(options.middleware ?? [])]
    : options.middleware;
  return {
    kind: 'jobsmith.job',
    name: options.name,
    queue,
    tries,
    backoff,
    timeout,
    priority,
    schema,
    unique,
    tags: options.tags,
    connection,
    // A copy, so a later change to the config's array cannot change a running worker's chain;
    // none at all when empty, so the worker calls the handler directly.
    middleware: chain?.length ? Object.freeze([...chain]) : undefined,
    breaker,
    retain: options.retain === undefined ? undefined : Object.freeze({ ...options.retain }),
    encrypted: options.encrypted === true ? true : undefined,
    handle: options.handle,
    failed: options.failed,
  };
}

function checkMiddleware(middleware: unknown): string | undefined {
  const help = 'a list of functions (ctx, next) => ..., such as [skipIf((payload) => ...)]';
  if (middleware === undefined) return undefined;
  if (!Array.isArray(middleware)) {
    return `middleware must be ${help}; got ${describeValue(middleware)}`;
  }
  // An index loop, not every(): a hole in the list is a missing middleware too.
  for (let i = 0; i < middleware.length; i++) {
    const entry: unknown = middleware[i];
    if (entry === skipIf) {
      // skipIf itself would run as a middleware that never calls next(): every job "done".
      return `middleware[${i}] is skipIf itself; call it with your test: skipIf((payload, ctx) => ...)`;
    }
    if (typeof entry !== 'function') {
      return `middleware[${i}] is ${describeValue(entry)}, not a function; middleware must be ${help}`;
    }
  }
  return undefined;
}

/** A bad value, shortly: a string quoted, an object by its kind. */
function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** Seconds that are a stored wait: 0 or more, at most MAX_WAIT_MS. */
function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value * 1000 <= MAX_WAIT_MS;
}
