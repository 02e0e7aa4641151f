import { clampWait } from './limits.js';
import type { Backoff } from './types.js';

/**
 * Milliseconds to wait before the retry that follows attempt `attempt` (1-based), whole and at
 * most MAX_WAIT_MS (defineJob checks the settings; this holds for the worker's --backoff too).
 * Arrays: one entry per retry, the last repeats. Exponential: base·2^(attempt-1), capped at
 * max, with ± jitter share.
 */
export function backoffDelayMs(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  return clampWait(backoffSeconds(backoff, attempt, random) * 1000);
}

function backoffSeconds(backoff: Backoff, attempt: number, random: () => number): number {
  if (typeof backoff === 'number') return backoff;
  if (Array.isArray(backoff)) {
    if (backoff.length === 0) return 0;
    return backoff[Math.min(attempt, backoff.length) - 1] ?? backoff[backoff.length - 1]!;
  }
  const base = backoff.base ?? 1;
  const max = backoff.max ?? 3600;
  const jitter = Math.min(Math.max(backoff.jitter ?? 0, 0), 1);
  const seconds = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const spread = seconds * jitter * (random() * 2 - 1);
  return seconds + spread;
}
