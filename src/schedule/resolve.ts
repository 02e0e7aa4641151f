import type { JobsmithConfig } from '../config/define.js';
import { ConfigError } from '../errors.js';
import {
  isJobName,
  isPriority,
  JOB_NAME_HELP,
  MAX_TIMER_HELP,
  MAX_TIMER_MS,
  PRIORITY_HELP,
  queueNameProblem,
} from '../jobs/limits.js';
import { prepareJob } from '../jobs/prepare.js';
import { JobRegistry } from '../jobs/registry.js';
import type { JobDefinition } from '../jobs/types.js';
import { CONNECTIONS } from '../queue/connections.js';
import { parseDuration, DURATION_HELP } from '../util/duration.js';
import { COMMANDS } from '../cli/manifest.js';
import { nearest } from '../cli/suggest.js';
import { splitArgs } from './args.js';
import { CRON_HELP, CronSchedule, cronProblem } from './cron.js';
import {
  DEFAULT_OVERLAP_LEASE_MS,
  type EntryAction,
  type ResolvedEntry,
  type ScheduleEntry,
} from './types.js';

/** Commands that would start a scheduler inside the scheduler. */
const NOT_SCHEDULABLE = new Set(['schedule:run', 'schedule:work', 'schedule:test']);
const FIELDS = new Set([
  'name',
  'cron',
  'timezone',
  'withoutOverlapping',
  'onOneServer',
  'description',
  'job',
  'payload',
  'queue',
  'priority',
  'connection',
  'command',
]);

/**
 * The time zone of entries that name none, when the config has no `scheduleTimezone`: UTC, the
 * one zone every host agrees on. The host's own zone (TZ) would make hosts in different zones
 * fire one entry at different instants, so each slot would fire once per zone.
 */
export const DEFAULT_TIMEZONE = 'UTC';

export function isTimezone(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks the config's schedule and resolves it for the scheduler. Every problem names the
 * entry, the bad value and what is allowed, so a typo fails at load, not at 3 a.m.
 */
export function resolveSchedule(config: JobsmithConfig, file?: string): ResolvedEntry[] {
  const fail = (problem: string): never => {
    throw new ConfigError(`Invalid schedule in ${file ?? 'the config'}: ${problem}`, {
      hint: 'Fix the schedule in the config file; `run schedule:list` shows it once it loads.',
    });
  };
  const { schedule } = config;
  if (schedule === undefined) return [];
  if (!Array.isArray(schedule)) fail('`schedule` must be an array of entries.');
  const defaultZone = config.scheduleTimezone ?? DEFAULT_TIMEZONE;
  if (!isTimezone(defaultZone)) {
    fail(
      `scheduleTimezone ${JSON.stringify(defaultZone)} is not a time zone; use an IANA name such as "UTC" or "Europe/Paris".`,
    );
  }
  const registry = new JobRegistry(config.jobs ?? []);
  const appCommands = (config.commands ?? []).map((c) => c.name);
  const seen = new Set<string>();
  return schedule.map((raw: ScheduleEntry, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return fail(
        `schedule[${index}] is not an object; write { name, cron, job } or { name, cron, command }.`,
      );
    }
    const name = raw.name;
    if (!isJobName(name)) {
      return fail(
        `schedule[${index}] has name ${JSON.stringify(name)}; an entry needs a name of ${JOB_NAME_HELP}.`,
      );
    }
    const entry = (problem: string) => fail(`entry "${name}": ${problem}`);
    if (seen.has(name)) entry('two entries have this name; entry names must be unique.');
    seen.add(name);
    const unknown = Object.keys(raw).filter((k) => !FIELDS.has(k));
    if (unknown.length > 0) {
      entry(
        `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${[...FIELDS].join(', ')}.`,
      );
    }

    const timezone = raw.timezone ?? defaultZone;
    if (!isTimezone(timezone)) {
      entry(
        `timezone ${JSON.stringify(timezone)} is not a time zone; use an IANA name such as "UTC" or "Europe/Paris".`,
      );
    }
    const cron = raw.cron as unknown;
    if (typeof cron === 'function') {
      entry(
        `cron is the function ${cron.name || '(anonymous)'}; call it: cron: ${cron.name || 'helper'}().`,
      );
    }
    if (typeof cron !== 'string' || cron.trim() === '') {
      entry(`cron must be a string, got ${JSON.stringify(cron)}; ${CRON_HELP}.`);
    }
    let parsed: CronSchedule;
    try {
      parsed = new CronSchedule((cron as string).trim(), timezone);
    } catch (error) {
      return entry(`cron "${cron}" is not valid (${cronProblem(error)}); ${CRON_HELP}.`);
    }
    if (parsed.next(Date.now()) === undefined) {
      entry(`cron "${cron}" never matches a date (such as 30 February), so it would never run.`);
    }

    const overlap = raw.withoutOverlapping;
    let overlapLeaseMs: number | undefined;
    if (overlap === true) overlapLeaseMs = DEFAULT_OVERLAP_LEASE_MS;
    else if (typeof overlap === 'object' && overlap !== null && 'lease' in overlap) {
      const lease = overlap.lease;
      const ms =
        typeof lease === 'number'
          ? lease * 1000
          : typeof lease === 'string'
            ? parseDuration(lease)
            : undefined;
      if (ms === undefined || !Number.isFinite(ms) || ms < 1000) {
        entry(
          `withoutOverlapping.lease ${JSON.stringify(lease)} is not valid; use seconds (60) or a duration of at least 1s: ${DURATION_HELP}.`,
        );
      }
      // The lease is renewed on a timer, so it has a timer's limit.
      if (ms! > MAX_TIMER_MS) {
        entry(
          `withoutOverlapping.lease ${JSON.stringify(lease)} is too long; use a duration ${MAX_TIMER_HELP}.`,
        );
      }
      overlapLeaseMs = Math.round(ms!);
    } else if (overlap !== undefined && overlap !== false) {
      entry(
        `withoutOverlapping must be true, false or { lease: '2m' }, got ${JSON.stringify(overlap)}.`,
      );
    }
    const onOneServer = raw.onOneServer ?? true;
    if (typeof onOneServer !== 'boolean') {
      entry(`onOneServer must be true or false, got ${JSON.stringify(onOneServer)}.`);
    }
    if (raw.description !== undefined && typeof raw.description !== 'string') {
      entry('description must be a string.');
    }

    return {
      name,
      cron: parsed.expression,
      timezone,
      description: raw.description,
      action: resolveAction(raw, registry, entry, appCommands),
      overlapLeaseMs,
      onOneServer,
    };
  });
}

function resolveAction(
  raw: ScheduleEntry,
  registry: JobRegistry,
  entry: (problem: string) => never,
  appCommands: readonly string[],
): EntryAction {
  const hasJob = raw.job !== undefined;
  const hasCommand = raw.command !== undefined;
  if (hasJob === hasCommand) {
    entry('give either `job` (a job to dispatch) or `command` (a run command), exactly one.');
  }
  if (hasCommand) {
    for (const field of ['payload', 'queue', 'priority', 'connection'] as const) {
      if (raw[field as keyof ScheduleEntry] !== undefined) {
        entry(`\`${field}\` only applies to a job entry, not to a command.`);
      }
    }
    return { type: 'command', args: resolveCommand(raw.command!, entry, appCommands) };
  }
  const job = resolveJob(raw.job!, registry, entry);
  const { queue, priority, connection } = raw as {
    queue?: unknown;
    priority?: unknown;
    connection?: unknown;
  };
  const queueProblem = queue === undefined ? undefined : queueNameProblem(queue);
  if (queueProblem) entry(`${queueProblem}.`);
  if (priority !== undefined && !isPriority(priority)) {
    entry(`priority must be ${PRIORITY_HELP}, got ${JSON.stringify(priority)}.`);
  }
  if (connection !== undefined && !(CONNECTIONS as readonly unknown[]).includes(connection)) {
    entry(
      `connection ${JSON.stringify(connection)} is not valid; use one of: ${CONNECTIONS.join(', ')}.`,
    );
  }
  const payload = raw.payload === undefined ? {} : raw.payload;
  try {
    // The dispatch the entry will make, checked now: the payload (schema and JSON round trip)
    // and the options, so a wrong one fails when the config loads, not at 3 a.m.
    // An encrypted job's payload is checked plain: only the dispatch needs APP_KEY (run doctor
    // checks it), so a missing key does not stop every command that loads the config.
    prepareJob(job.encrypted ? { ...job, encrypted: undefined } : job, payload, {
      queue: queue as string | undefined,
      priority: priority as number | undefined,
    });
  } catch (error) {
    entry(`${(error as Error).message.replace(/\.?$/, '')}.`);
  }
  return {
    type: 'job',
    job,
    payload,
    queue: queue as string | undefined,
    priority: priority as number | undefined,
    connection: connection as string | undefined,
  };
}

function resolveJob(
  job: JobDefinition | string,
  registry: JobRegistry,
  entry: (problem: string) => never,
): JobDefinition {
  const known = registry.names().join(', ') || 'none';
  if (typeof job === 'string') {
    const found = registry.get(job);
    if (!found) entry(`job "${job}" is not in the config's jobs (registered: ${known}).`);
    return found!;
  }
  if (
    typeof job !== 'object' ||
    job === null ||
    (job as { kind?: string }).kind !== 'jobsmith.job'
  ) {
    return entry('job must be a job made with defineJob() or the name of one.');
  }
  if (registry.get(job.name) !== job) {
    entry(
      `job "${job.name}" is not in the config's jobs list, so no worker could run it; add it to jobs: [...].`,
    );
  }
  return job;
}

function resolveCommand(
  command: string | string[],
  entry: (problem: string) => never,
  appCommands: readonly string[],
): string[] {
  let args: string[] | undefined;
  if (typeof command === 'string') {
    args = splitArgs(command);
    if (!args) entry(`command ${JSON.stringify(command)} has an unterminated quote.`);
  } else if (Array.isArray(command) && command.every((a) => typeof a === 'string')) {
    args = [...command];
  } else {
    entry(
      'command must be a string such as "queue:prune-failed --hours 168" or an array of strings.',
    );
  }
  if (!args || args.length === 0) {
    return entry('command is empty; give a run command such as "queue:prune-failed --hours 168".');
  }
  const name = args[0]!;
  if (name === 'run') {
    entry(`command starts with "run"; leave it out: "${args.slice(1).join(' ')}".`);
  }
  // The config's own commands (defineCommand) run like the built-in ones.
  const names = [...COMMANDS.map((c) => c.name), ...appCommands];
  if (!names.includes(name)) {
    const guess = nearest(name, names);
    entry(
      `command "${name}" is not a run command${guess ? `; did you mean "${guess}"?` : '.'} Run \`run --help\` to list them.`,
    );
  }
  if (NOT_SCHEDULABLE.has(name)) {
    entry(
      `command "${name}" cannot be scheduled: it would start a scheduler inside the scheduler.`,
    );
  }
  return args;
}
