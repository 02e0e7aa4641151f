/**
 * defineJob checks every option against the core ranges (src/jobs/limits.ts), so a wrong one
 * fails when the config loads, naming the job and the option, not when the job runs.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { defineJob } from '../src/jobs/define.js';
import { skipIf } from '../src/jobs/middleware.js';
import type { JobOptions } from '../src/jobs/types.js';

function refusal(options: Record<string, unknown>): string {
  try {
    defineJob({ name: 'mail.send', handle() {}, ...options } as JobOptions<unknown>);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('defineJob accepted it');
}

describe('defineJob', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'no handle',
      { handle: undefined },
      'handle must be a function: defineJob({ ..., async handle(payload, ctx) {...} })',
    ],
    [
      'a failed that is not a function',
      { failed: 'log it' },
      'failed must be a function when given',
    ],
    [
      'a queue with a space',
      { queue: 'bad queue' },
      'queue "bad queue" is not a queue name; use letters, digits and . _ - (at most 190 characters)',
    ],
    [
      'a queue with ":"',
      { queue: 'mail:high' },
      'queue "mail:high" holds ":", which Redis keeps as its key separator; use letters, digits and . _ - (at most 190 characters)',
    ],
    [
      'a timeout of 30 days',
      { timeout: 30 * 86400 },
      'timeout must be a positive number of seconds, at most 2147483647ms (about 24.8 days), the longest a timer can wait; got 2592000',
    ],
    [
      'a timeout of 0',
      { timeout: 0 },
      'timeout must be a positive number of seconds, at most 2147483647ms (about 24.8 days), the longest a timer can wait; got 0',
    ],
    [
      'a priority past the Redis range',
      { priority: 1_048_576 },
      'priority must be a whole number from -1048575 to 1048575, got 1048576',
    ],
    ['tries of 1.5', { tries: 1.5 }, 'tries must be a whole number from 1 to 1000000, got 1.5'],
    [
      'a backoff with NaN',
      { backoff: [10, NaN] },
      "backoff must be seconds (0 or more, at most 100 years), a list of them, or { type: 'exponential', base, max, jitter }; got [10, NaN]",
    ],
    [
      'a negative backoff',
      { backoff: -1 },
      "backoff must be seconds (0 or more, at most 100 years), a list of them, or { type: 'exponential', base, max, jitter }; got -1",
    ],
    [
      'an exponential backoff with max Infinity',
      { backoff: { type: 'exponential', max: Infinity } },
      'backoff.max must be seconds, 0 or more, at most 100 years; got Infinity',
    ],
    [
      'a unique without for',
      { unique: { key: () => 'k' } },
      'unique.for must be a positive number of seconds, at most 100 years; got undefined',
    ],
    [
      'an unknown connection',
      { connection: 'mysql' },
      'connection "mysql" is not valid; use one of: database, redis, sync',
    ],
    [
      'a schema that is not one',
      { schema: { userId: 'number' } },
      'schema must be a zod schema, such as z.object({ userId: z.number() })',
    ],
    [
      'middleware that is not a list',
      { middleware: (_ctx: unknown, next: () => unknown) => next() },
      'middleware must be a list of functions (ctx, next) => ..., such as [skipIf((payload) => ...)]; got a function',
    ],
    [
      'a middleware entry that is not a function',
      { middleware: [() => {}, 'auth'] },
      'middleware[1] is "auth", not a function; middleware must be a list of functions (ctx, next) => ..., such as [skipIf((payload) => ...)]',
    ],
    [
      'a hole in the middleware list',
      // eslint-disable-next-line no-sparse-arrays
      { middleware: [, () => {}] },
      'middleware[0] is undefined, not a function; middleware must be a list of functions (ctx, next) => ..., such as [skipIf((payload) => ...)]',
    ],
    [
      'skipIf itself, not called',
      { middleware: [skipIf] },
      'middleware[0] is skipIf itself; call it with your test: skipIf((payload, ctx) => ...)',
    ],
    [
      'a misspelt option',
      { timout: 30 },
      'unknown option "timout"; the options are name, queue, schema, tries, backoff, timeout, priority, connection, unique, tags, middleware, breaker, retain, encrypted, handle, failed',
    ],
  ])('refuses %s, naming the job and the option', (_what, options, problem) => {
    expect(refusal(options)).toBe(`Job mail.send: ${problem}.`);
  });

  it('accepts the edges of every range', () => {
    const job = defineJob({
      name: 'edges.job',
      queue: 'a_b.c-1',
      tries: 1_000_000,
      timeout: 2_147_483.647,
      priority: -1_048_575,
      backoff: { type: 'exponential', base: 0, max: 3_155_760_000, jitter: 1 },
      unique: { key: () => 'k', for: 3_155_760_000 },
      handle() {},
    });
    expect(job).toMatchObject({ queue: 'a_b.c-1', tries: 1_000_000, priority: -1_048_575 });
  });

  it('keeps its own frozen copy of the middleware list, and none when the list is empty', () => {
    const list = [skipIf(() => false)];
    const job = defineJob({ name: 'mw.job', middleware: list, handle() {} });
    list.push(() => undefined);
    expect(job.middleware).toHaveLength(1);
    expect(Object.isFrozen(job.middleware)).toBe(true);
    expect(defineJob({ name: 'mw.none', middleware: [], handle() {} }).middleware).toBeUndefined();
  });

  it('refuses skipIf without a function, saying what it takes', () => {
    expect(() => skipIf('yes' as never)).toThrow(
      'skipIf takes a function: skipIf((payload, ctx) => true to skip, or a string saying why).',
    );
  });
});
