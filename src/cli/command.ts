import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import {
  MAX_PRIORITY,
  MAX_TIMER_HELP,
  MAX_TIMER_MS,
  MAX_TRIES,
  MAX_WAIT_HELP,
  MAX_WAIT_MS,
  QUEUE_NAME_HELP,
  queueUsageProblem,
} from '../jobs/limits.js';
import { BACKOFF_TEXT_HELP, parseBackoffText } from '../jobs/backoff.js';
import { MAX_TAGS, TAGS_HELP, tagProblem } from '../jobs/tags.js';
import { DURATION_HELP, parseDuration } from '../util/duration.js';
import { isCalendarDate, parseIsoDate } from '../util/iso-date.js';
import type { GlobalOptions } from './app.js';

/**
 * A commander Command with the options every command shares and our usage-error handling.
 * `example` is shown under the help, as asynq's CLI does for each command.
 */
export function newCommand(name: string, description: string, example: string): Command {
  return new Command(name)
    .description(description)
    .option('--config <path>', 'config file (default: ./jobsmith.config.ts or JOBSMITH_CONFIG)')
    .option('-v, --verbose', 'show stack traces for errors')
    .addHelpText('after', `\nExample:\n  $ ${example}\n`)
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
}

/**
 * The global options of a command. An explicit --config that does not exist fails here, before
 * the command does anything (exit 2), whether or not the command would read the config.
 */
export function globals(opts: { config?: string; verbose?: boolean }): GlobalOptions {
  if (opts.config !== undefined && !existsSync(resolve(opts.config))) {
    throw new UsageError(`--config ${opts.config}: no such file (${resolve(opts.config)}).`, {
      hint: 'Give the path of jobsmith.config.ts, or leave --config out to use the one in this folder.',
    });
  }
  return { config: opts.config, verbose: opts.verbose };
}

/* Flag parsers: each names the flag, the bad value and what it accepts, and exits 2. */

export function intFlag(flag: string, options: { min?: number; max?: number } = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new UsageError(`${flag} must be a whole number ${range}, got "${value}".`);
    }
    return n;
  };
}

/**
 * Parses a duration flag into milliseconds. By default the duration arms a timer (--sleep,
 * --timeout, --lease, --grace...) and may be at most MAX_TIMER_MS (about 24.8 days): a longer
 * one would make Node fire it after 1 ms. `stored: true` is for a wait that is stored, not
 * timed (--delay): at most MAX_WAIT_MS (100 years).
 */
export function durationFlag(
  flag: string,
  options: { allowZero?: boolean; stored?: boolean } = {},
) {
  const [max, maxHelp] = options.stored
    ? [MAX_WAIT_MS, MAX_WAIT_HELP]
    : [MAX_TIMER_MS, MAX_TIMER_HELP];
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined || (!options.allowZero && ms <= 0)) {
      throw new UsageError(`${flag} must be a duration, ${DURATION_HELP}; got "${value}".`);
    }
    if (ms > max) throw new UsageError(`${flag} must be ${maxHelp}; got "${value}".`);
    return ms;
  };
}

/** Parses a comma-separated list of queue names (`--queue high,default`). */
export function listFlag(flag: string) {
  return (value: string): string[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const subject = `${flag} must be a comma-separated list of queue names:`;
    if (items.length === 0) throw new UsageError(`${subject} ${QUEUE_NAME_HELP}; got "${value}".`);
    for (const item of items) {
      const problem = queueUsageProblem(item, subject);
      if (problem) throw new UsageError(problem);
    }
    return items;
  };
}

/** Parses --priority: the core range, ±MAX_PRIORITY. */
export function priorityFlag(flag: string) {
  return intFlag(flag, { min: -MAX_PRIORITY, max: MAX_PRIORITY });
}

/** Parses --tries: 1 to MAX_TRIES, as defineJob and dispatch take them. */
export function triesFlag(flag: string) {
  return intFlag(flag, { min: 1, max: MAX_TRIES });
}

/**
 * Parses --backoff: seconds, or a comma list of seconds (`10,30,60`), each from 0 to 100 years,
 * as defineJob takes them.
 */
export function backoffFlag(flag: string) {
  return (value: string): number[] => {
    const numbers = parseBackoffText(value);
    if (!numbers) throw new UsageError(`${flag} must be ${BACKOFF_TEXT_HELP}; got "${value}".`);
    return numbers;
  };
}

/**
 * Parses a repeatable --tag into the tags given so far (commander passes them back), each a tag
 * as dispatch takes it (src/jobs/tags.ts).
 */
export function tagsFlag(flag: string) {
  return (value: string, previous: string[] | undefined): string[] => {
    const problem = tagProblem(value);
    if (problem) throw new UsageError(`${flag}: ${problem}; a job's tags are ${TAGS_HELP}.`);
    const tags = previous?.includes(value) ? previous : [...(previous ?? []), value];
    if (tags.length > MAX_TAGS)
      throw new UsageError(
        `${flag} is given more than ${MAX_TAGS} times; a job's tags are ${TAGS_HELP}.`,
      );
    return tags;
  };
}

/** Parses an ISO 8601 date/time. */
export function dateFlag(flag: string) {
  return (value: string): Date => {
    const date = parseIsoDate(value);
    if (!date) {
      throw new UsageError(
        isCalendarDate(value)
          ? `${flag} must be an ISO 8601 date/time such as 2026-01-31T09:00:00Z, got "${value}".`
          : `${flag} "${value}" is not a date on the calendar (no such day, or an hour, minute or second out of range).`,
      );
    }
    return date;
  };
}

export { Option };
