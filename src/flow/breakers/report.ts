/*
 * What `run breaker:list` and `run breaker:reset` show: the breakers the config's jobs declare,
 * joined with those stored (a breaker no job names any more is still listed, so that it can be
 * seen and reset).
 */
import type { JobDefinition } from '../../jobs/types.js';
import type { BreakerSettings } from './settings.js';
import type { BreakerStatus, BreakerStore } from './store.js';
import { breakerUses } from './validate.js';

export interface BreakerReport {
  name: string;
  status: BreakerStatus;
  /** The settings the config gives it; undefined for a breaker only stored. */
  settings?: BreakerSettings;
  /** The jobs that name it. */
  jobs: string[];
}

export async function breakerReport(
  jobs: readonly JobDefinition<unknown>[],
  store: BreakerStore,
): Promise<BreakerReport[]> {
  const declared = new Map<string, { settings: BreakerSettings; jobs: string[] }>();
  for (const use of breakerUses(jobs)) {
    const entry = declared.get(use.settings.name);
    if (entry) {
      if (!entry.jobs.includes(use.job)) entry.jobs.push(use.job);
    } else declared.set(use.settings.name, { settings: use.settings, jobs: [use.job] });
  }
  const stored = new Map((await store.list()).map((s) => [s.name, s]));
  const names = [...new Set([...declared.keys(), ...stored.keys()])].sort();
  return names.map((name) => ({
    name,
    status: stored.get(name) ?? neverStored(name),
    settings: declared.get(name)?.settings,
    jobs: declared.get(name)?.jobs ?? [],
  }));
}

function neverStored(name: string): BreakerStatus {
  return {
    name,
    state: 'closed',
    failures: 0,
    windowStartedAt: null,
    openedAt: null,
    until: null,
    probing: false,
  };
}
