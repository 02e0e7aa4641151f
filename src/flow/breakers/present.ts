import type { BreakerReport } from './report.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A breaker as `breaker:list --json` prints it: snake_case, ISO times. */
export function breakerJson(r: BreakerReport) {
  const { status, settings } = r;
  return {
    name: r.name,
    state: status.state,
    probing: status.probing,
    failures: status.failures,
    window_started_at: iso(status.windowStartedAt),
    opened_at: iso(status.openedAt),
    until: iso(status.until),
    // The config's settings; null for a breaker no job declares any more.
    settings: settings
      ? {
          failures: settings.failures,
          window_ms: settings.windowMs,
          cooldown_ms: settings.cooldownMs,
        }
      : null,
    jobs: r.jobs,
  };
}
