import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS } from '../src/util/timers.js';
import { SharedDeadlines, timerPerDeadline } from '../src/worker/deadlines.js';
import { LazyJobContext } from '../src/worker/job-context.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const dispatch = () => Promise.reject(new Error('not in this test'));

describe('LazyJobContext', () => {
  it('hands out one signal, aborted with the reason given before or after it was read', () => {
    const early = new LazyJobContext(1, '1', 'default', log, dispatch);
    const reason = new Error('timed out');
    early.abort(reason);
    early.abort(new Error('second reason is ignored'));
    expect(early.signal.aborted).toBe(true);
    expect(early.signal.reason).toBe(reason);
    expect(early.signal).toBe(early.signal);

    const late = new LazyJobContext(2, '2', 'default', log, dispatch);
    const seen: unknown[] = [];
    late.signal.addEventListener('abort', () => seen.push(late.signal.reason));
    late.abort(reason);
    expect(seen).toEqual([reason]);
    expect({ attempt: late.attempt, jobId: late.jobId, queue: late.queue }).toEqual({
      attempt: 2,
      jobId: '2',
      queue: 'default',
    });
  });

  it('keeps signal when a handler copies its context with a spread', () => {
    const ctx = new LazyJobContext(1, '3', 'default', log, dispatch);
    const copy = { ...ctx };
    ctx.abort(new Error('stop'));
    expect(Object.keys(copy)).toContain('signal');
    expect(copy.signal).toBe(ctx.signal);
    expect(copy.signal.aborted).toBe(true);
  });
});

describe('SharedDeadlines', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires each deadline at its time, earliest first, and never a cancelled one', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const deadlines = new SharedDeadlines();
    const fired: string[] = [];
    deadlines.schedule(300, () => fired.push('300'));
    const cancelled = deadlines.schedule(200, () => fired.push('200'));
    deadlines.schedule(100, () => fired.push('100'));
    cancelled.cancel();

    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['100']);
    vi.advanceTimersByTime(150);
    expect(fired).toEqual(['100']);
    deadlines.schedule(10, () => fired.push('later 10'));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['100', 'later 10']);
    vi.advanceTimersByTime(40);
    expect(fired).toEqual(['100', 'later 10', '300']);
  });

  it('drops every deadline on clear', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const deadlines = new SharedDeadlines();
    const fire = vi.fn();
    deadlines.schedule(50, fire);
    deadlines.clear();
    vi.advanceTimersByTime(100);
    expect(fire).not.toHaveBeenCalled();
  });
});

describe('deadlines past the longest timer (24.8 days)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const THIRTY_DAYS = 30 * 86_400_000;

  it('a bare timer that long would fire at once (what Node does, and why they are split)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fire = vi.fn();
    setTimeout(fire, THIRTY_DAYS);
    vi.advanceTimersByTime(2);
    expect(fire).toHaveBeenCalled();
  });

  it.each([
    ['SharedDeadlines', () => new SharedDeadlines().schedule],
    ['timerPerDeadline', () => timerPerDeadline],
  ])('%s fires a 30-day deadline after 30 days, not before', (_name, make) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const schedule = make();
    const fire = vi.fn();
    schedule(THIRTY_DAYS, fire);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(THIRTY_DAYS - MAX_TIMER_MS - 2);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});
