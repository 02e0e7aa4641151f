import type { ClaimOptions } from './driver.js';

/**
 * How many jobs of `queue` a claim may take: `want`, within the claim's per-queue limit and,
 * when the queue has a global cap and `held` is given, within what the cap leaves. `held`
 * counts the queue's jobs held with a live lease; it is called only for a capped queue, inside
 * whatever makes the count and the claim atomic (the caller's transaction).
 */
export function capped(
  options: ClaimOptions,
  queue: string,
  want: number,
  held?: () => number,
): number {
  const own = options.perQueue?.get(queue);
  if (own !== undefined) want = Math.min(want, own);
  const cap = options.globalConcurrency?.get(queue);
  if (cap !== undefined && held && want > 0) want = Math.min(want, cap - held());
  return Math.max(0, want);
}
