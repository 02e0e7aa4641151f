/**
 * Rate limits without storage: GCRA's promise (no window of `per` lets more than limit + burst
 * through), RetryAfter's bad input, the wait rounding that keeps a put-back from running early,
 * and what rateLimited refuses, when made and when it runs.
 */
import { describe, expect, it } from 'vitest';
import { flowControl } from '../src/flow/control.js';
import { decide, gcraParams, type KeyState } from '../src/flow/rate-limits/gcra.js';
import { RATE_LIMITS_USED, rateLimited } from '../src/flow/rate-limits/middleware.js';
import type {
  RateLimitDecision,
  RateLimitRule,
  RateLimitStore,
  RateLimitTakeOptions,
} from '../src/flow/rate-limits/store.js';
import { pushBackOf, RateLimitExceeded, retryAfterMs, RetryAfter } from '../src/jobs/errors.js';
import type { MiddlewareContext } from '../src/jobs/types.js';

describe('GCRA', () => {
  /**
   * The greediest client: asks again at once after each pass, and after a denial at the exact
   * microsecond the key frees (tat − tau). Returns the times let through over `spanUs`.
   */
  function greedy(rule: RateLimitRule, spanUs: number): number[] {
    const params = gcraParams(rule);
    const state: KeyState = { tat: 0, backlog: 0 };
    const passed: number[] = [];
    const start = 1_000_000;
    for (let now = start; now < start + spanUs;) {
      const d = decide(now, [{ ...params, state, blockedUntil: 0 }]);
      // Let through: it goes at now + waitUs (booked a moment ahead, within the grace).
      if (d.allowed) passed.push(now + d.waitUs);
      else now = Math.max(now + 1, state.tat - params.toleranceUs);
    }
    // A pass booked ahead may go after the span's end: not in it.
    return passed.filter((at) => at < start + spanUs).sort((a, b) => a - b);
  }

  /** The most requests let through in any window of `perUs` (half open). */
  function busiestWindow(times: number[], perUs: number): number {
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= perUs) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  }

  for (const [limit, perMs, burst] of [
    [30, 1000, 0],
    [1, 1000, 0],
    [20, 60_000, 0],
    [5, 1000, 3],
    [7, 333, 2],
  ] as const) {
    it(`lets at most ${limit} + ${burst} through in any ${perMs} ms, and nearly that many`, () => {
      const rule = { name: 'r', limit, perMs, burst };
      const passed = greedy(rule, perMs * 10_000);
      expect(busiestWindow(passed, perMs * 1000)).toBe(limit + burst);
      expect(passed.length).toBeGreaterThanOrEqual(limit * 10 - 1);
      expect(passed.length).toBeLessThanOrEqual(limit * 10 + burst);
    });
  }
});

describe('RetryAfter', () => {
  it.each([
    [-1, 'got -1'],
    [Number.NaN, 'got NaN'],
    [Infinity, 'got Infinity'],
    [-Infinity, 'got -Infinity'],
  ])('refuses %s seconds, naming the value', (seconds, got) => {
    expect(() => new RetryAfter(seconds)).toThrow(
      `RetryAfter takes seconds, a finite number of 0 or more; ${got}. To give up on the job, throw Permanent instead.`,
    );
  });

  it('refuses a limit that is not a name, and a key that is not a string or number', () => {
    expect(() => new RetryAfter(1, { limit: '' })).toThrow(
      `RetryAfter's limit must be the name of a rate limit in the config, got "".`,
    );
    expect(() => new RetryAfter(1, { key: 'k' })).toThrow(
      `RetryAfter's limit must be the name of a rate limit in the config, got undefined.`,
    );
    expect(() => new RetryAfter(1, { limit: 'a', key: {} as never })).toThrow(
      `RetryAfter's key must be a string or a finite number, got {}.`,
    );
  });

  it('carries what to push back, the key as text; a string is still the message', () => {
    expect(pushBackOf(new RetryAfter(5, { limit: 'telegram.chat', key: 42 }))).toEqual({
      limit: 'telegram.chat',
      key: '42',
    });
    expect(pushBackOf(new RetryAfter(5, { limit: 'telegram.global' }))).toEqual({
      limit: 'telegram.global',
    });
    expect(pushBackOf(new RetryAfter(5))).toBeUndefined();
    expect(new RetryAfter(5, 'slow down').message).toBe('slow down');
    // A denial by rateLimited pushes nothing back: the limit's own state says when it frees.
    expect(pushBackOf(new RateLimitExceeded(34, 'a', 'k'))).toBeUndefined();
  });

  it("knows its own message in a job's last error: the job comes back from a booked slot", () => {
    for (const e of [new RateLimitExceeded(34, 'a', 'k'), new RateLimitExceeded(5, 'a', '')])
      expect(RateLimitExceeded.isMessage(e.message)).toBe(true);
    for (const other of [null, undefined, '', 'Rate limit', new RetryAfter(5, 'slow down').message])
      expect(RateLimitExceeded.isMessage(other)).toBe(false);
  });

  it('waits whole milliseconds rounded up, so a put-back never runs early', () => {
    expect(retryAfterMs(new RetryAfter(0.0001))).toBe(1);
    expect(retryAfterMs(new RetryAfter(0.0334))).toBe(34);
    expect(retryAfterMs(new RetryAfter(0))).toBe(0);
    // 0.007 × 1000 is 7.000000000000001 in floating point: still 7.
    expect(retryAfterMs(new RetryAfter(0.007))).toBe(7);
    for (let ms = 1; ms < 2000; ms++) {
      expect(retryAfterMs(new RateLimitExceeded(ms, 'a', ''))).toBe(ms);
    }
  });
});

describe('rateLimited', () => {
  it('refuses bad arguments when the job is defined', () => {
    const usage =
      "rateLimited takes a limit name and an optional key function, rateLimited('telegram.chat', (p) => p.chatId), or a list: rateLimited(['telegram.global', { limit: 'telegram.chat', key: (p) => p.chatId }])";
    expect(() => rateLimited('')).toThrow(`${usage}; the limit name is empty.`);
    expect(() => rateLimited([])).toThrow(`${usage}; got [].`);
    expect(() => rateLimited('a', 'chatId' as never)).toThrow(
      `${usage}; the key function is a string.`,
    );
    expect(() => rateLimited(['a'], (() => 1) as never)).toThrow(
      `${usage}; with a list, give each limit its own key: { limit, key }.`,
    );
    expect(() => rateLimited(['a', { limit: 'b', key: 'x' as never }])).toThrow(
      `${usage}; entry 1 is neither a limit name nor { limit: string, key?: function }.`,
    );
    expect(() => rateLimited(['a'], { maxLateMs: -1 })).toThrow(
      "rateLimited's maxLateMs is a number of milliseconds, 0 or more, got -1.",
    );
    expect(() => rateLimited('a', undefined, 'soon' as never)).toThrow(
      `rateLimited's options are an object such as { maxLateMs: 50 }, got "soon".`,
    );
  });

  it('marks the middleware with the names it takes, for the config check', () => {
    const m = rateLimited(['telegram.global', { limit: 'telegram.chat', key: () => 1 }]);
    expect((m as unknown as Record<symbol, unknown>)[RATE_LIMITS_USED]).toEqual([
      'telegram.global',
      'telegram.chat',
    ]);
  });

  /** A middleware context with only what rateLimited reads. */
  const ctx = (flow?: MiddlewareContext['flow']) =>
    ({
      name: 'telegram.send',
      payload: { chatId: undefined },
      flow,
      signal: new AbortController().signal,
    }) as MiddlewareContext<{
      chatId?: number;
    }>;
  // Never reached: each case fails before the store is opened.
  const noStorage = {
    flow: () => {
      throw new Error('the store was opened');
    },
  };
  const rules = new Map<string, RateLimitRule>([
    ['telegram.chat', { name: 'telegram.chat', limit: 1, perMs: 1000, burst: 0 }],
  ]);
  const next = async () => 'ran';

  it('fails a job run without flow control, saying how to give it one', async () => {
    await expect(rateLimited('telegram.chat')(ctx(), next)).rejects.toThrow(
      "Job telegram.send: rateLimited('telegram.chat') has no storage to keep its limits in (ctx.flow is undefined). Run it with run queue:work, or give the Worker flow: flowControl(driver, rules, emit).",
    );
  });

  it('fails a job whose limit the worker does not declare, listing those it does', async () => {
    const flow = flowControl(noStorage, rules, () => {});
    await expect(rateLimited('telegram.chatt')(ctx(flow), next)).rejects.toMatchObject({
      name: 'RateLimitError',
      message:
        "Job telegram.send: rateLimited('telegram.chatt') names a limit the config does not declare (declared: telegram.chat). Add it to defineConfig({ rateLimits }).",
    });
  });

  it('fails a job whose key is not a string or a finite number', async () => {
    const flow = flowControl(noStorage, rules, () => {});
    const m = rateLimited<{ chatId?: number }>('telegram.chat', (p) => p.chatId as number);
    await expect(m(ctx(flow), next)).rejects.toThrow(
      "Job telegram.send: the key of rate limit 'telegram.chat' must be a string or a finite number, got undefined.",
    );
  });

  describe('maxLateMs: a job that starts too long after its slot does not run in it', () => {
    /**
     * A store that lets every take through, booked `waitMs` ahead, and answers `delays[i]` ms
     * after take i is asked (the last delay for the rest): a slow answer makes the start late.
     */
    const slowStore = (delays: number[], waitMs = 0) => {
      const takes: RateLimitTakeOptions[] = [];
      const rateLimits = {
        async take(_requests: unknown, options: RateLimitTakeOptions = {}) {
          const delay = delays[Math.min(takes.length, delays.length - 1)]!;
          takes.push(options);
          await new Promise((resolve) => setTimeout(resolve, delay));
          return { allowed: true, waitMs } satisfies RateLimitDecision;
        },
      } as unknown as RateLimitStore;
      const flow = flowControl({ flow: () => ({ rateLimits }) as never }, rules, () => {});
      return { flow, takes };
    };
    const limited = rateLimited('telegram.chat', undefined, { maxLateMs: 200 });

    it('runs a job whose take answers at once, and one booked a moment ahead', async () => {
      expect(await limited(ctx(slowStore([0]).flow), next)).toBe('ran');
      // The wait for a slot booked ahead is not lateness.
      expect(await limited(ctx(slowStore([0], 60).flow), next)).toBe('ran');
    });

    it('asks again, as a job back from a slot, when an answer came too late to use it', async () => {
      const { flow, takes } = slowStore([400, 0]);
      expect(await limited(ctx(flow), next)).toBe('ran');
      expect(takes).toEqual([{ booked: false }, { booked: true }]);
    });

    it('is put back unspent after three slots missed in a row, never run late', async () => {
      const { flow, takes } = slowStore([400]);
      let ran = false;
      const run = limited(ctx(flow), async () => {
        ran = true;
      });
      await expect(run).rejects.toBeInstanceOf(RateLimitExceeded);
      await expect(run).rejects.toMatchObject({ ms: 0, limit: 'telegram.chat' });
      expect(ran).toBe(false);
      expect(takes).toHaveLength(3);
    });

    it('without maxLateMs, runs however late the answer came', async () => {
      const { flow, takes } = slowStore([400]);
      expect(await rateLimited('telegram.chat')(ctx(flow), next)).toBe('ran');
      expect(takes).toHaveLength(1);
    });
  });
});
