import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { DURATION_HELP, parseDuration } from '../util/duration.js';
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

export function globals(opts: { config?: string; verbose?: boolean }): GlobalOptions {
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

/** Parses a duration flag into milliseconds. */
export function durationFlag(flag: string, options: { allowZero?: boolean } = {}) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined || (!options.allowZero && ms <= 0)) {
      throw new UsageError(`${flag} must be a duration, ${DURATION_HELP}; got "${value}".`);
    }
    return ms;
  };
}

/** Parses a comma-separated list of names (queues). */
export function listFlag(flag: string) {
  return (value: string): string[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0 || items.some((q) => !/^[A-Za-z0-9_.:-]{1,190}$/.test(q))) {
      throw new UsageError(
        `${flag} must be a comma-separated list of names (letters, digits, . _ : -), got "${value}".`,
      );
    }
    return items;
  };
}

/** Parses an ISO 8601 date/time. */
export function dateFlag(flag: string) {
  return (value: string): Date => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      throw new UsageError(
        `${flag} must be an ISO 8601 date/time such as 2026-01-31T09:00:00Z, got "${value}".`,
      );
    }
    return date;
  };
}

export { Option };
