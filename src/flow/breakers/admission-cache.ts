/*
 * A worker's view of its breakers: jobs that start together share one read of a breaker, and
 * a breaker seen closed stays closed for CLOSED_FRESH_MS without asking the storage again.
 * Without it every job of a busy GPT queue paid a round trip (PostgreSQL, Redis) before its
 * request, more than the request itself against a fast upstream.
 *
 * What it costs: another process's failures reach this worker up to CLOSED_FRESH_MS late, far
 * inside the "requests stop within a second" the breaker promises (docs/circuit-breakers.md).
 * This process's own failures drop the cached state at once, so it never runs past its own
 * breaker opening. A probe is never shared: only one job may hold the half-open breaker.
 */
import type { BreakerSettings } from './settings.js';
import type { Admission, BreakerOutcome, BreakerStore } from './store.js';

/** How long a closed breaker is taken as closed without reading it again, in ms. */
export const CLOSED_FRESH_MS = 100;

export class CachedAdmissions implements BreakerStore {
  /** Breaker name → when it was last read closed (performance.now()). */
  private readonly closedAt = new Map<string, number>();
  /** Breaker name → the read under way, which jobs arriving meanwhile wait for. */
  private readonly reading = new Map<string, Promise<Admission>>();

  constructor(
    private readonly store: BreakerStore,
    private readonly freshMs = CLOSED_FRESH_MS,
  ) {}

  async admit(settings: BreakerSettings): Promise<Admission> {
    const name = settings.name;
    const seen = this.closedAt.get(name);
    if (seen !== undefined && performance.now() - seen < this.freshMs) return { run: true };
    const under = this.reading.get(name);
    if (under) {
      const shared = await under;
      // The reader became the probe: the others must ask for themselves (and will wait).
      if (shared.run && shared.probe !== undefined) return this.admit(settings);
      return shared;
    }
    const read = this.store.admit(settings);
    this.reading.set(name, read);
    try {
      const admission = await read;
      if (admission.run && admission.probe === undefined)
        this.closedAt.set(name, performance.now());
      else this.closedAt.delete(name);
      return admission;
    } finally {
      this.reading.delete(name);
    }
  }

  record(settings: BreakerSettings, outcome: BreakerOutcome, probe?: string) {
    // A failure may be the one that opens it: the next job reads the storage.
    if (outcome === 'failure') this.closedAt.delete(settings.name);
    return this.store.record(settings, outcome, probe);
  }

  list() {
    return this.store.list();
  }

  reset(name: string) {
    this.closedAt.delete(name);
    return this.store.reset(name);
  }
}
