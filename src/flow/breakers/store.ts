/*
 * Circuit-breaker state on one storage: the `breakers` table on SQLite and PostgreSQL, one hash
 * per breaker on Redis. Each method is one atomic decision (a transaction, a statement or a Lua
 * script), timed by the storage's clock, so every worker on every host sees the same breaker.
 *
 * States: `closed` (jobs run; failures are counted in a fixed window), `open` (no job runs until
 * `until`), `half-open` (one probe job runs, holding a lease until `until`; its outcome closes or
 * re-opens the breaker). A breaker never stored is closed.
 */
import type { BreakerSettings } from './settings.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * While another job probes a half-open breaker, the others come back after this (or when the
 * probe's lease ends, if sooner): soon enough to run promptly once the probe closes it.
 */
export const HALF_OPEN_WAIT_MS = 1_000;

/**
 * Whether a job may run now. `probe` is set when this job is the half-open breaker's probe: a
 * token to pass to `record`. Otherwise `retryAfterMs` says when to ask again (> 0).
 */
export type Admission =
  { run: true; probe?: string } | { run: false; retryAfterMs: number; state: 'open' | 'half-open' };

/**
 * How an admitted job ended, for the breaker: `failure` counts, `success` closes a half-open
 * breaker, `neutral` (a skip, an error that does not count, a shutdown) frees a probe's lease
 * without a verdict, so that the next job probes at once.
 */
export type BreakerOutcome = 'success' | 'failure' | 'neutral';

/** A change of state that `record` made. `until` is when an opened breaker lets a probe in. */
export type BreakerTransition =
  { to: 'open'; failures: number; until: number; reopened: boolean } | { to: 'closed' };

/** One breaker as `run breaker:list` shows it; times are epoch milliseconds. */
export interface BreakerStatus {
  name: string;
  /** `half-open` also when the cooldown ended and no job has come to probe yet. */
  state: BreakerState;
  /** Failures counted in the current window (0 once it has passed). */
  failures: number;
  /** When the current window started; null when no failure is counted. */
  windowStartedAt: number | null;
  /** When it last opened; null when closed. */
  openedAt: number | null;
  /** Open: the end of the cooldown. Half-open: the end of the probe's lease (null if none). */
  until: number | null;
  /** Whether a probe job holds the half-open breaker. */
  probing: boolean;
}

export interface BreakerStore {
  /**
   * Decides whether a job of the breaker may run: closed, yes; open, no, until the cooldown
   * ends; after it, the first job to ask becomes the probe (the breaker is half-open from then)
   * and every other one waits while the probe's lease lasts.
   */
  admit(settings: BreakerSettings): Promise<Admission>;
  /**
   * Records an admitted job's outcome. With `probe` (the token `admit` gave): closes the
   * breaker on success, re-opens it for another cooldown on failure; a stale token (the lease
   * ran out and another job probes) changes nothing. Without: a failure counts toward opening
   * a closed breaker; anything else changes nothing. Returns the transition made, if any.
   */
  record(
    settings: BreakerSettings,
    outcome: BreakerOutcome,
    probe?: string,
  ): Promise<BreakerTransition | undefined>;
  /** Every stored breaker, by name. */
  list(): Promise<BreakerStatus[]>;
  /** Closes the breaker and forgets its failures. False when nothing was stored for it. */
  reset(name: string): Promise<boolean>;
}
