import { timerDelay } from './timers.js';

/**
 * Resolves after `ms` (at most MAX_TIMER_MS, about 24.8 days: a caller that needs longer loops),
 * or at once when `signal` aborts (never rejects).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timerDelay(ms));
    signal.addEventListener('abort', done);
  });
}
