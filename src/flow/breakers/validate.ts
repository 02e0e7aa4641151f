/*
 * The config's breakers, checked together when it loads: each job's own settings are checked
 * by defineJob and breaker(); here, that every job naming one breaker agrees on it.
 */
import type { JobDefinition } from '../../jobs/types.js';
import { breakerOf } from './middleware.js';
import { sharedSettings, type BreakerSettings } from './settings.js';

/** Where a job declares a breaker: `breaker` or `middleware[i]`. */
export interface BreakerUse {
  job: string;
  entry: string;
  settings: BreakerSettings;
}

/** Every breaker the jobs declare, in job order, with the job and the entry declaring it. */
export function breakerUses(jobs: readonly JobDefinition<unknown>[]): BreakerUse[] {
  const uses: BreakerUse[] = [];
  for (const job of jobs) {
    // defineJob put the `breaker` option's middleware first: report it by the option's name.
    (job.middleware ?? []).forEach((fn, i) => {
      const settings = breakerOf(fn);
      if (!settings) return;
      const fromOption = i === 0 && job.breaker !== undefined;
      const entry = fromOption ? 'breaker' : `middleware[${job.breaker ? i - 1 : i}]`;
      uses.push({ job: job.name, entry, settings });
    });
  }
  return uses;
}

/**
 * Calls `fail` with a sentence when two jobs (or two entries) declare one breaker name with
 * different failures, window or cooldown: the stored state would obey whichever ran last.
 */
export function checkBreakers(
  jobs: readonly JobDefinition<unknown>[] | undefined,
  fail: (problem: string) => never,
): void {
  const first = new Map<string, BreakerUse>();
  for (const use of breakerUses(jobs ?? [])) {
    const seen = first.get(use.settings.name);
    if (!seen) {
      first.set(use.settings.name, use);
      continue;
    }
    const a = sharedSettings(seen.settings);
    const b = sharedSettings(use.settings);
    if (a !== b)
      fail(
        `breaker "${use.settings.name}" is declared with different settings: job ${seen.job} (${seen.entry}) has ${a}, job ${use.job} (${use.entry}) has ${b}; every job naming one breaker must give it the same failures, window and cooldown.`,
      );
  }
}
