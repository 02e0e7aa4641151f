/*
 * A circuit breaker's settings, as a job declares them (`defineJob({ breaker })` or the
 * `breaker()` middleware), checked and with durations in milliseconds. Loaded by the public
 * entry point through define.ts: no storage here.
 */
import { ConfigError } from '../../errors.js';
import { MAX_WAIT_HELP, MAX_WAIT_MS } from '../../jobs/limits.js';
import { DURATION_HELP, parseDuration } from '../../util/duration.js';

/** A duration: seconds (`30`) or a string with a unit (`'500ms'`, `'30s'`, `'1m'`, `'2h'`). */
export type BreakerDuration = number | string;

/** What a job says about its breaker: `breaker: { name: 'openai', failures: 5, ... }`. */
export interface BreakerOptions {
  /**
   * The breaker's name (letters, digits and . _ : -, at most 100 characters). Every job that
   * names it shares one state, on every worker of the same storage.
   */
  name: string;
  /**
   * Failures within `window` that open the breaker: a whole number from 1 to 1,000,000.
   * @defaultValue 5
   */
  failures?: number;
  /**
   * The window failures are counted in. A fixed window: it starts at the first failure counted
   * and, once it has passed, the next failure starts a new one at 1. Seconds or a duration.
   * @defaultValue '1m'
   */
  window?: BreakerDuration;
  /**
   * How long the breaker stays open before it lets one probe job through. Seconds or a
   * duration. @defaultValue '30s'
   */
  cooldown?: BreakerDuration;
  /**
   * How long a probe job holds the half-open breaker. A probe whose worker died frees it when
   * this runs out, and the next job probes. Seconds or a duration. @defaultValue the job's
   * timeout plus 5 seconds (`defineJob({ breaker })`), or 65 seconds (the `breaker()` middleware)
   */
  probeLease?: BreakerDuration;
  /**
   * Which errors count as failures. Called with the error a job's handler (or a later
   * middleware) threw; a job that timed out is passed its JobTimeoutError. @defaultValue every
   * error except RetryAfter. A skipped job (skipIf) and a job cut short by the worker's shutdown
   * never count, whatever `when` says. Permanent errors count: a 401 or an exhausted quota
   * is the upstream's failure as much as a 500.
   */
  when?: (error: Error) => boolean;
}

/** A breaker's checked settings, durations in milliseconds. */
export interface BreakerSettings {
  name: string;
  failures: number;
  windowMs: number;
  cooldownMs: number;
  probeLeaseMs: number;
  when?: (error: Error) => boolean;
}

export const BREAKER_DEFAULTS = {
  failures: 5,
  windowMs: 60_000,
  cooldownMs: 30_000,
  /** For the middleware, which cannot see the job's timeout: the default timeout (60 s) + 5 s. */
  probeLeaseMs: 65_000,
} as const;

/** A probe may overrun the job's timeout by the worker's grace for stuck handlers. */
export const PROBE_LEASE_MARGIN_MS = 5_000;

const FIELDS = ['name', 'failures', 'window', 'cooldown', 'probeLease', 'when'];
export const BREAKER_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
export const BREAKER_NAME_HELP = 'letters, digits and . _ : - (at most 100 characters)';
const MAX_FAILURES = 1_000_000;

/**
 * Checks `options` and returns the settings; `probeLeaseMs` is the default lease when the
 * options give none. Throws ConfigError `${where}: breaker.<field> must be ...; got <value>`.
 */
export function resolveBreaker(
  options: unknown,
  where: string,
  probeLeaseMs: number = BREAKER_DEFAULTS.probeLeaseMs,
): BreakerSettings {
  const fail = (problem: string): never => {
    throw new ConfigError(`${where}: ${problem}.`, {
      hint: "Declare it as breaker: { name: 'openai', failures: 5, window: '1m', cooldown: '30s' }.",
    });
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail(
      `breaker must be an object such as { name: 'openai', failures: 5 }; got ${shown(options)}`,
    );
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0)
    fail(
      `breaker has unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; the fields are ${FIELDS.join(', ')}`,
    );
  if (typeof o.name !== 'string' || !BREAKER_NAME.test(o.name))
    fail(`breaker.name must be ${BREAKER_NAME_HELP}; got ${shown(o.name)}`);
  const failures = o.failures ?? BREAKER_DEFAULTS.failures;
  if (
    !Number.isInteger(failures) ||
    (failures as number) < 1 ||
    (failures as number) > MAX_FAILURES
  )
    fail(
      `breaker.failures must be a whole number from 1 to ${MAX_FAILURES} (the failures that open it); got ${shown(failures)}`,
    );
  if (o.when !== undefined && typeof o.when !== 'function')
    fail(`breaker.when must be a function (error) => boolean; got ${shown(o.when)}`);
  const duration = (field: string, fallback: number): number => {
    const value = o[field];
    if (value === undefined) return fallback;
    const ms =
      typeof value === 'number'
        ? Math.round(value * 1000)
        : typeof value === 'string'
          ? parseDuration(value)
          : undefined;
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > MAX_WAIT_MS)
      fail(
        `breaker.${field} must be a positive duration, ${DURATION_HELP}, ${MAX_WAIT_HELP}; got ${shown(value)}`,
      );
    return ms!;
  };
  return {
    name: o.name as string,
    failures: failures as number,
    windowMs: duration('window', BREAKER_DEFAULTS.windowMs),
    cooldownMs: duration('cooldown', BREAKER_DEFAULTS.cooldownMs),
    probeLeaseMs: duration('probeLease', probeLeaseMs),
    when: o.when as BreakerSettings['when'],
  };
}

/** The settings two jobs naming one breaker must agree on (the probe lease is the job's own). */
export function sharedSettings(s: BreakerSettings): string {
  return `failures ${s.failures}, window ${s.windowMs}ms, cooldown ${s.cooldownMs}ms`;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
