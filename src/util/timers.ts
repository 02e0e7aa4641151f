/**
 * The longest delay Node's timers take: 2^31 - 1 ms, about 24.8 days. A longer delay does not
 * wait longer: Node fires it after 1 ms and prints a TimeoutOverflowWarning, so a timer armed
 * for "30 days" would spin. Every timer whose delay comes from a setting goes through
 * `timerDelay`, and settings that arm timers are checked against this maximum where they are read.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a timer can wait it: at least 0, at most MAX_TIMER_MS (wait again for the rest). */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
