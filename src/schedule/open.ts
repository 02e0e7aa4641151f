import { hostname } from 'node:os';
import type { App } from '../cli/app.js';
import { parseNow, SchedulerClock } from './clock.js';
import { nextRuns } from './present.js';
import { resolveSchedule } from './resolve.js';
import { EntryRunner } from './run-entry.js';
import { Scheduler } from './scheduler.js';
import { databaseNow } from './store.js';
import type { ResolvedEntry } from './types.js';

/** The config's schedule, checked, and the config file it came from. */
export async function loadSchedule(app: App): Promise<{ entries: ResolvedEntry[]; file?: string }> {
  const { config, file } = await app.config();
  return { entries: resolveSchedule(config, file), file };
}

/**
 * The schedule's entries, each with its next `count` run times (epoch ms) after now (the
 * database-free clock: JOBSMITH_NOW, else the system's), for `schedule:list` and the dashboard.
 */
export async function scheduleWithRuns(
  app: App,
  count: number,
): Promise<{ rows: Array<{ entry: ResolvedEntry; next: number[] }>; file?: string }> {
  const { entries, file } = await loadSchedule(app);
  const now = parseNow(app.rawEnv.JOBSMITH_NOW) ?? Date.now();
  return { rows: entries.map((entry) => ({ entry, next: nextRuns(entry, count, now) })), file };
}

/**
 * A scheduler wired to the app: the migrated storage, the database clock (or JOBSMITH_NOW),
 * the dispatcher and the `run` binary for command entries.
 */
export async function openScheduler(
  app: App,
  entries: ResolvedEntry[],
  options: { file?: string; json: boolean },
): Promise<{ scheduler: Scheduler; clock: SchedulerClock }> {
  const db = await app.db();
  const clock = await SchedulerClock.create(app.rawEnv, () => databaseNow(db));
  const runner = new EntryRunner({
    dispatcher: app.dispatcher(),
    cwd: app.cwd,
    configFile: options.file,
    commandStdout: options.json ? 'stderr' : 'stdout',
  });
  const host = hostname();
  const scheduler = new Scheduler(entries, {
    db,
    clock,
    runner,
    host,
    owner: `${host}:${process.pid}`,
  });
  return { scheduler, clock };
}
