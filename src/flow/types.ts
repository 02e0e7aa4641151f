/*
 * Flow control shared by every process on the same storage: keyed rate limits, locks
 * (withoutOverlapping) and circuit breakers. Each queue driver hands out a FlowStore on its own
 * storage (QueueDriver.flow): SQL tables on SQLite and PostgreSQL, keys on Redis. The built-in
 * middleware (rateLimited, withoutOverlapping, breaker) reach it through `ctx.flow`.
 */
import type { BreakerStore } from './breakers/store.js';
import type { LockStore } from './locks/store.js';
import type { RateLimitRule, RateLimitStore } from './rate-limits/store.js';
import type { FlowEvent } from './events.js';

/** The three stores of one storage. Every decision is one atomic round trip. */
export interface FlowStore {
  readonly rateLimits: RateLimitStore;
  readonly locks: LockStore;
  readonly breakers: BreakerStore;
}

/**
 * What a middleware gets as `ctx.flow`: the storage's flow stores, the config's rate limits
 * (checked when it loaded) and a way to report transitions, which the worker emits as events.
 */
export interface FlowControl {
  readonly store: FlowStore;
  /** The config's `rateLimits`, by name, checked and with durations in milliseconds. */
  readonly rateLimits: ReadonlyMap<string, RateLimitRule>;
  /** Reports a transition (a breaker opened...); `run queue:work` logs it. */
  emit(event: FlowEvent): void;
}
