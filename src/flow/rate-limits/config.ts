/*
 * The config's `rateLimits`, checked when the config loads and resolved to the rules the stores
 * take. A job whose rateLimited() names a limit not declared here is refused at the same time,
 * not when the job first runs.
 */
import type { JobsmithConfig, RateLimitSettings } from '../../config/define.js';
import { ConfigError } from '../../errors.js';
import { DURATION_HELP, parseDuration } from '../../util/duration.js';
import { rateLimitsUsed } from './middleware.js';
import type { RateLimitRule } from './store.js';

/** Highest `limit` and `burst`. */
export const MAX_RATE = 1_000_000;
/** Longest `per`, and longest burst span (burst × per / limit): 366 days. */
const MAX_SPAN_MS = 366 * 86_400_000;
/** Limit names: as queue names, so every storage keeps them as they are (no Redis ":"). */
const NAME = /^[A-Za-z0-9._-]{1,190}$/;
const FIELDS = ['limit', 'per', 'burst'];

const shown = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));

/**
 * Checks `config.rateLimits` and the rateLimited() middleware of `config.jobs`, and returns the
 * rules by name. Throws ConfigError naming the file, the entry, the value and what is allowed.
 */
export function rateLimitRules(
  config: JobsmithConfig,
  file: string,
): ReadonlyMap<string, RateLimitRule> {
  const fail = (problem: string): never => {
    throw new ConfigError(`Invalid config in ${file}: ${problem}`, {
      hint: "Declare each limit as rateLimits: { 'name': { limit: 30, per: '1s', burst: 0 } } (see docs/rate-limits.md).",
    });
  };
  const rules = new Map<string, RateLimitRule>();
  const declared = config.rateLimits;
  if (declared !== undefined) {
    if (typeof declared !== 'object' || declared === null || Array.isArray(declared))
      fail(`\`rateLimits\` must be an object keyed by limit name, got ${shown(declared)}.`);
    for (const [name, settings] of Object.entries(declared)) {
      const problem = settingsProblem(name, settings);
      if (typeof problem === 'string') fail(`${problem}.`);
      rules.set(name, problem as RateLimitRule);
    }
  }
  for (const job of config.jobs ?? []) {
    for (const middleware of job.middleware ?? []) {
      for (const name of rateLimitsUsed(middleware) ?? []) {
        if (!rules.has(name))
          fail(
            `job "${job.name}" uses rateLimited('${name}'), which \`rateLimits\` does not declare (declared: ${[...rules.keys()].join(', ') || 'none'}).`,
          );
      }
    }
  }
  return rules;
}

/** The rule of one entry, or what is wrong with it. */
function settingsProblem(name: string, settings: unknown): RateLimitRule | string {
  const entry = `rateLimits[${JSON.stringify(name)}]`;
  if (!NAME.test(name))
    return `${entry}: a limit name uses letters, digits and . _ - (at most 190 characters)`;
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    return `${entry} must be an object such as { limit: 30, per: '1s' }, got ${shown(settings)}`;
  const unknown = Object.keys(settings).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0)
    return `${entry} has unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; the fields are ${FIELDS.join(', ')}`;
  const { limit, per, burst = 0 } = settings as RateLimitSettings;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RATE)
    return `${entry}.limit must be a whole number from 1 to ${MAX_RATE}, got ${shown(limit)}`;
  const perMs =
    typeof per === 'number'
      ? Number.isFinite(per)
        ? Math.round(per * 1000)
        : undefined
      : typeof per === 'string'
        ? parseDuration(per)
        : undefined;
  if (perMs === undefined || !(perMs >= 1) || perMs > MAX_SPAN_MS)
    return `${entry}.per must be a positive duration from 1ms to 366 days: ${DURATION_HELP}; got ${shown(per)}`;
  if (!Number.isInteger(burst) || burst < 0 || burst > MAX_RATE)
    return `${entry}.burst must be a whole number from 0 to ${MAX_RATE}, got ${shown(burst)}`;
  if ((burst * perMs) / limit > MAX_SPAN_MS)
    return `${entry}: a burst of ${burst} at ${limit} per ${shown(per)} spans more than 366 days; lower burst`;
  return { name, limit, perMs, burst };
}
