/**
 * withoutOverlapping's options and keys, refused by name before anything is stored: a bad
 * option when the config loads (ConfigError), a bad key or a missing store when the job runs
 * (Permanent: a retry would meet the same mistake). Storage behaviour is in
 * test/conformance/locks.test.ts and worker.without-overlapping.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, Permanent, withoutOverlapping } from '../src/index.js';
import type { MiddlewareContext } from '../src/index.js';

const quiet = () => {};

/** A context with no flow control, as a runner without storage gives it. */
function bareContext(payload: unknown): MiddlewareContext<never> {
  return {
    name: 'account.sync',
    payload: payload as never,
    attempt: 1,
    jobId: '1',
    queue: 'default',
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    dispatch: () => Promise.reject(new Error('not here')),
    progress: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
}

describe('withoutOverlapping: bad input', () => {
  it.each([
    [
      { expireAfter: 0.5 },
      'withoutOverlapping: expireAfter 0.5 is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 1s and at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
    ],
    [
      { expireAfter: '30 days' },
      'withoutOverlapping: expireAfter "30 days" is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 1s and at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
    ],
    [
      { expireAfter: '30d' },
      'withoutOverlapping: expireAfter "30d" is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 1s and at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
    ],
    [
      { releaseAfter: 0 },
      'withoutOverlapping: releaseAfter 0 is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 100ms and at most 100 years.',
    ],
    [
      { releaseAfter: Number.NaN },
      'withoutOverlapping: releaseAfter NaN is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 100ms and at most 100 years.',
    ],
    [
      { releaseAfter: '50ms' },
      'withoutOverlapping: releaseAfter "50ms" is not valid; use seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), at least 100ms and at most 100 years.',
    ],
  ])('refuses %j when the config loads', (options, message) => {
    const make = () => withoutOverlapping((p: { id: number }) => p.id, options);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it('refuses a key that is not a function', () => {
    const make = () => withoutOverlapping('userId' as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(
      'withoutOverlapping takes a function as its key: withoutOverlapping((payload) => payload.userId), or nothing for one job per name at a time; got "userId".',
    );
  });

  it('takes seconds, durations and no options at all', () => {
    for (const options of [
      undefined,
      {},
      { expireAfter: 1, releaseAfter: 0.1 },
      { expireAfter: '5m', releaseAfter: '250ms' },
    ]) {
      expect(typeof withoutOverlapping(undefined, options)).toBe('function');
    }
  });

  it('fails the job (Permanent) when its key is neither a string nor a finite number', async () => {
    const mw = withoutOverlapping((p: { id?: unknown }) => p.id as string);
    const next = () => Promise.resolve('ran');
    for (const [id, shown] of [
      [undefined, 'undefined'],
      [{ a: 1 }, '{"a":1}'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ] as const) {
      const run = mw(bareContext({ id }) as never, next) as Promise<unknown>;
      await expect(run).rejects.toBeInstanceOf(Permanent);
      await expect(mw(bareContext({ id }) as never, next)).rejects.toThrow(
        `withoutOverlapping on account.sync: keyOf returned ${shown}; it must return a string or a finite number.`,
      );
    }
  });

  it('fails the job (Permanent) where the runner gives no flow control, its handler not run', async () => {
    let ran = false;
    const run = withoutOverlapping((p: { id: number }) => p.id)(
      bareContext({ id: 1 }) as never,
      () => {
        ran = true;
        return Promise.resolve();
      },
    ) as Promise<unknown>;
    await expect(run).rejects.toBeInstanceOf(Permanent);
    await expect(run).rejects.toThrow(
      'withoutOverlapping on account.sync: this runner gives no flow control storage (ctx.flow), so no lock can be taken. Run the job with run queue:work, or give the Worker a flow (flowControl).',
    );
    expect(ran).toBe(false);
  });
});
