/**
 * Declaring a circuit breaker: defineJob({ breaker }) and the breaker() middleware check every
 * setting (ConfigError naming the job or the breaker, the field, the value and what is allowed),
 * fill in the documented defaults, and put the breaker first in the job's chain; the config's
 * check accepts jobs that agree on a breaker.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { breaker, breakerOf } from '../src/flow/breakers/middleware.js';
import { checkBreakers } from '../src/flow/breakers/validate.js';
import { defineJob } from '../src/jobs/define.js';
import { skipIf } from '../src/jobs/middleware.js';

const handle = async () => {};

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('not refused');
};

describe('defineJob({ breaker })', () => {
  it('fills in the defaults: 5 failures in 1m, 30s cooldown, a probe lease of the timeout + 5s', () => {
    const job = defineJob({ name: 'gpt', timeout: 20, breaker: { name: 'openai' }, handle });
    expect(job.breaker).toEqual({
      name: 'openai',
      failures: 5,
      windowMs: 60_000,
      cooldownMs: 30_000,
      probeLeaseMs: 25_000,
      when: undefined,
    });
  });

  it('runs the breaker first, before the middleware the job lists', () => {
    const skip = skipIf(() => false);
    const job = defineJob({
      name: 'gpt',
      breaker: { name: 'openai', failures: 2, window: 90, cooldown: '2m', probeLease: '10s' },
      middleware: [skip],
      handle,
    });
    expect(job.middleware).toHaveLength(2);
    expect(breakerOf(job.middleware![0])).toMatchObject({
      failures: 2,
      windowMs: 90_000,
      cooldownMs: 120_000,
      probeLeaseMs: 10_000,
    });
    expect(job.middleware![1]).toBe(skip);
  });

  it.each([
    [
      { name: 'open ai' },
      'breaker.name must be letters, digits and . _ : - (at most 100 characters); got "open ai"',
    ],
    [
      { name: 'openai', failures: 1.5 },
      'breaker.failures must be a whole number from 1 to 1000000 (the failures that open it); got 1.5',
    ],
    [{ name: 'openai', window: 0 }, 'breaker.window must be a positive duration'],
    [{ name: 'openai', window: -1 }, 'breaker.window must be a positive duration'],
    [
      { name: 'openai', cooldown: '1w' },
      'breaker.cooldown must be a positive duration, seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d, at most 100 years; got "1w"',
    ],
    [
      { name: 'openai', when: 'errors' },
      'breaker.when must be a function (error) => boolean; got "errors"',
    ],
    [
      { name: 'openai', threshold: 3 },
      'breaker has unknown field "threshold"; the fields are name, failures, window, cooldown, probeLease, when',
    ],
  ])('refuses %j', (options, message) => {
    expect(refusal(() => defineJob({ name: 'gpt', breaker: options as never, handle }))).toContain(
      `Job gpt: ${message}`,
    );
  });

  it('names the breaker when the middleware form is refused', () => {
    expect(refusal(() => breaker({ name: 'openai', failures: 0 }))).toBe(
      'breaker("openai"): breaker.failures must be a whole number from 1 to 1000000 (the failures that open it); got 0.',
    );
  });
});

describe('checkBreakers', () => {
  const fail = (problem: string): never => {
    throw new ConfigError(problem);
  };

  it('accepts jobs that agree on a breaker, whatever their probe lease and when', () => {
    const a = defineJob({
      name: 'a',
      timeout: 10,
      breaker: { name: 'openai', cooldown: 30 },
      handle,
    });
    const b = defineJob({
      name: 'b',
      timeout: 90,
      middleware: [breaker({ name: 'openai', cooldown: '30s', when: () => true })],
      handle,
    });
    expect(() => checkBreakers([a, b], fail)).not.toThrow();
  });

  it('refuses a second entry with another window, naming both jobs and entries', () => {
    const a = defineJob({ name: 'a', breaker: { name: 'openai' }, handle });
    const b = defineJob({
      name: 'b',
      breaker: { name: 'other' },
      middleware: [breaker({ name: 'openai', window: '2m' })],
      handle,
    });
    expect(refusal(() => checkBreakers([a, b], fail))).toContain(
      'job a (breaker) has failures 5, window 60000ms, cooldown 30000ms, job b (middleware[0]) has failures 5, window 120000ms, cooldown 30000ms',
    );
  });
});
