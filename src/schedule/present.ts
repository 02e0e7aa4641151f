import { formatDurationInput } from '../util/duration.js';
import { joinArgs } from './args.js';
import { CronSchedule } from './cron.js';
import type { ResolvedEntry } from './types.js';

/** An entry as `schedule:list --json` prints it. */
export function entryJson(entry: ResolvedEntry, next: number[]) {
  const { action } = entry;
  return {
    name: entry.name,
    cron: entry.cron,
    timezone: entry.timezone,
    description: entry.description ?? null,
    action:
      action.type === 'command'
        ? { type: 'command' as const, command: joinArgs(action.args), args: action.args }
        : {
            type: 'job' as const,
            job: action.job.name,
            payload: action.payload,
            queue: action.queue ?? action.job.queue,
            priority: action.priority ?? action.job.priority,
            connection: action.connection ?? null,
          },
    withoutOverlapping:
      entry.overlapLeaseMs === undefined ? false : { leaseMs: entry.overlapLeaseMs },
    onOneServer: entry.onOneServer,
    next: next.map((ms) => new Date(ms).toISOString()),
  };
}

/** The next `count` slots of an entry after `after`. */
export function nextRuns(entry: ResolvedEntry, count: number, after: number): number[] {
  return new CronSchedule(entry.cron, entry.timezone).nextRuns(count, after);
}

/** `2026-01-31 09:00:00 +01:00`: wall time in the entry's zone, with its offset. */
export function formatInZone(ms: number, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const offset = String(parts.timeZoneName ?? '').replace(/^GMT/, '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}

/** `no overlap (lease 60s), one server`. */
export function describeOptions(entry: ResolvedEntry): string {
  const parts = [];
  if (entry.overlapLeaseMs !== undefined) {
    parts.push(`no overlap (lease ${formatDurationInput(entry.overlapLeaseMs)})`);
  }
  parts.push(entry.onOneServer ? 'one server' : 'each server');
  return parts.join(', ');
}
