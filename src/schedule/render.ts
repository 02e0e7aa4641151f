import { paint } from '../cli/output.js';
import type { Logger } from '../logging/logger.js';
import { printable } from '../logging/printable.js';
import { redact } from '../logging/redact.js';
import { formatDuration } from '../util/duration.js';
import { joinArgs } from './args.js';
import type { SchedulerClock } from './clock.js';
import type { Scheduler } from './scheduler.js';
import type { ResolvedEntry } from './types.js';

/** What an entry does, in a few words: `job digest.send` or `run queue:prune-failed --hours 168`. */
export function describeAction(entry: ResolvedEntry): string {
  const { action } = entry;
  if (action.type === 'command') return `run ${joinArgs(action.args)}`;
  return `job ${action.job.name}${action.queue ? ` on ${action.queue}` : ''}`;
}

/** `2026-01-31 09:00:00`, in UTC like the worker's lines. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * Renders scheduler events: one readable line per run (slot time, entry, status, detail), or
 * JSON lines with --json; every event also goes to the log file.
 */
export function renderScheduler(
  scheduler: Scheduler,
  options: { json: boolean; log: Logger; clock: SchedulerClock; out?: NodeJS.WritableStream },
): void {
  const out = options.out ?? process.stdout;
  const { log, clock } = options;
  const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const json = (event: string, data: Record<string, unknown>) => {
    if (options.json) {
      out.write(redact(`${JSON.stringify({ time: iso(clock.now()), event, ...data })}\n`));
    }
  };
  const line = (slotAt: number | undefined, name: string, status: string, detail = '') => {
    if (options.json) return;
    const time = paint.dim(formatTime(slotAt ?? clock.now()));
    out.write(redact(`${time} ${name} ${status}${detail ? ` ${detail}` : ''}\n`));
  };

  scheduler.on('entry:started', ({ entry, slotAt }) => {
    log.info({ entry: entry.name, slot: iso(slotAt) }, 'schedule entry started');
    json('entry:started', { entry: entry.name, slot: iso(slotAt), action: describeAction(entry) });
    line(slotAt, entry.name, paint.yellow('RUNNING'), paint.dim(describeAction(entry)));
  });
  scheduler.on('entry:finished', ({ entry, slotAt, ok, detail, durationMs }) => {
    const data = {
      entry: entry.name,
      slot: iso(slotAt),
      ok,
      detail: printable(detail),
      durationMs,
    };
    if (ok) log.info(data, 'schedule entry finished');
    else log.error(data, 'schedule entry failed');
    json('entry:finished', data);
    line(
      slotAt,
      entry.name,
      ok ? paint.green('DONE') : paint.red('FAIL'),
      `${formatDuration(durationMs)} ${paint.dim(data.detail)}`,
    );
  });
  scheduler.on('entry:skipped', ({ entry, slotAt, reason, detail }) => {
    const data = { entry: entry.name, slot: iso(slotAt), reason, detail };
    log.info(data, 'schedule entry skipped');
    json('entry:skipped', data);
    line(slotAt, entry.name, paint.dim('SKIPPED'), paint.dim(detail));
  });
  scheduler.on('entry:lease-lost', ({ entry }) => {
    const message = `${entry.name} lost its overlap lease while running (renewals failed for a whole lease); another run may overlap it.`;
    log.warn({ entry: entry.name }, 'overlap lease lost');
    json('entry:lease-lost', { entry: entry.name });
    if (!options.json) process.stderr.write(`${paint.yellow('Warning:')} ${message}\n`);
  });
  scheduler.on('scheduler:waiting', ({ at, entries }) => {
    log.debug({ at: iso(at), entries }, 'scheduler waiting');
    json('scheduler:waiting', { at: iso(at), entries });
    if (!options.json) out.write(paint.dim(`Next: ${formatTime(at)} ${entries.join(', ')}\n`));
  });
  scheduler.on('scheduler:stopping', () => {
    log.info({}, 'scheduler stopping');
    json('scheduler:stopping', {});
    if (!options.json) {
      out.write(
        paint.dim('Stopping: waiting for running entries (signal again to kill them)...\n'),
      );
    }
  });
  scheduler.on('scheduler:error', ({ error, during }) => {
    log.error({ during, error: error.message }, 'scheduler error');
    json('scheduler:error', { during, error: printable(error.message) });
    if (!options.json) {
      process.stderr.write(`${paint.red('Error')} during ${during}: ${printable(error.message)}\n`);
    }
  });
}

/**
 * A scheduler:error as renderScheduler prints it, for `run schedule:work` before its scheduler
 * exists: the storage failures it waits out at start (no database clock yet: the system's).
 */
export function renderSchedulerError(options: {
  json: boolean;
  log: Logger;
  out?: NodeJS.WritableStream;
}): (error: Error, during: string) => void {
  const out = options.out ?? process.stdout;
  return (error, during) => {
    options.log.error({ during, error: error.message }, 'scheduler error');
    const text = printable(error.message);
    if (options.json) {
      const line = { time: new Date().toISOString(), event: 'scheduler:error', during };
      out.write(redact(`${JSON.stringify({ ...line, error: text })}\n`));
    } else process.stderr.write(`${paint.red('Error')} during ${during}: ${text}\n`);
  };
}
