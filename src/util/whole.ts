/**
 * Numbers bound for an integer column (PostgreSQL `bigint`/`integer`, Redis PX/TTL arguments)
 * must be whole: PostgreSQL refuses `1795416412895.5` for a bigint, Redis refuses a fractional
 * PEXPIRE. Delays, leases, time-to-live values and times computed from clocks are often not
 * (a clock offset taken at a round trip's midpoint, `RetryAfter(0.0001)`, a backoff of 1.5 s
 * with jitter), so every driver and store rounds them where they cross into storage, here.
 */

/**
 * Milliseconds as a whole number: rounded up, so that a delay or a lease never ends before
 * the time it was asked for (`0.1` → `1`). Non-finite values are returned unchanged, for the
 * storage to refuse with its own message.
 */
export function wholeMs(ms: number): number {
  return Number.isFinite(ms) ? Math.ceil(ms) : ms;
}

/** Epoch milliseconds (a moment, not a length) as a whole number: rounded to the nearest. */
export function wholeTime(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms) : ms;
}
