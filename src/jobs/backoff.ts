import type { Backoff } from './types.js';

/**
 * Milliseconds to wait before the retry that follows attempt `attempt` (1-based).
 * Arrays: one entry per retry, the last repeats. Exponential: base·2^(attempt-1), capped at
 * max, with ± jitter share.
 */
export function backoffDelayMs(
  backoff: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (typeof backoff === 'number') return Math.max(0, backoff) * 1000;
  if (Array.isArray(backoff)) {
    if (backoff.length === 0) return 0;
    const seconds = backoff[Math.min(attempt, backoff.length) - 1] ?? backoff[backoff.length - 1]!;
    return Math.max(0, seconds) * 1000;
  }
  const base = backoff.base ?? 1;
  const max = backoff.max ?? 3600;
  const jitter = Math.min(Math.max(backoff.jitter ?? 0, 0), 1);
  const seconds = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const spread = seconds * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round((seconds + spread) * 1000));
}
