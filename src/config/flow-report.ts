/**
 * The flow control a config declares, for `run about`: its rate limits and the breakers its
 * jobs name. Settings only: `run about` never connects, so no state (open, pushed back) is read
 * here; `run limits:list` and `run breaker:list` show that.
 */
import { breakerUses } from '../flow/breakers/validate.js';
import type { RateLimitRule } from '../flow/rate-limits/store.js';
import type { JobDefinition } from '../jobs/types.js';
import { formatDurationInput } from '../util/duration.js';

export interface RateLimitAbout {
  name: string;
  /** Requests per window. */
  limit: number;
  /** The window as written in a config (`1s`), and in ms. */
  per: string;
  perMs: number;
  /** Requests allowed at once above the steady rate (0: none). */
  burst: number;
}

export interface BreakerAbout {
  name: string;
  /** Failures within `window` that open it. */
  failures: number;
  /** The window and the cooldown as written in a config (`1m`), and in ms. */
  window: string;
  windowMs: number;
  cooldown: string;
  cooldownMs: number;
  /** The jobs that name it, in config order. */
  jobs: string[];
}

/** Every rate limit of the config, in the order it declares them. */
export function aboutRateLimits(rules: ReadonlyMap<string, RateLimitRule>): RateLimitAbout[] {
  return [...rules.values()].map((r) => ({
    name: r.name,
    limit: r.limit,
    per: formatDurationInput(r.perMs),
    perMs: r.perMs,
    burst: r.burst,
  }));
}

/**
 * Every breaker the jobs name, by name, with the jobs naming it. The config load has checked
 * that they agree on failures, window and cooldown, so the first job's settings stand for all.
 */
export function aboutBreakers(jobs: readonly JobDefinition<unknown>[]): BreakerAbout[] {
  const byName = new Map<string, BreakerAbout>();
  for (const { job, settings: s } of breakerUses(jobs)) {
    const seen = byName.get(s.name);
    if (seen) {
      if (!seen.jobs.includes(job)) seen.jobs.push(job);
      continue;
    }
    byName.set(s.name, {
      name: s.name,
      failures: s.failures,
      window: formatDurationInput(s.windowMs),
      windowMs: s.windowMs,
      cooldown: formatDurationInput(s.cooldownMs),
      cooldownMs: s.cooldownMs,
      jobs: [job],
    });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A rate limit as `run about` prints it: `1 per 1s, burst 2`. */
export const rateLimitText = (r: RateLimitAbout) =>
  `${r.limit} per ${r.per}${r.burst > 0 ? `, burst ${r.burst}` : ''}`;

/** A breaker as `run about` prints it: `5 failures in 1m, cooldown 30s; jobs: a, b`. */
export const breakerText = (b: BreakerAbout) =>
  `${b.failures} failure(s) in ${b.window}, cooldown ${b.cooldown}; jobs: ${b.jobs.join(', ')}`;
