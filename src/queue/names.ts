import { UsageError } from '../errors.js';
import { CONNECTIONS } from './connections.js';

/*
 * Parsers for the names operator commands take (queues, job names, connections). Each names
 * the flag or argument, the bad value and what it accepts, and exits 2 (UsageError).
 */

/** Queue and job names: what defineJob and the queue tables accept. */
const NAME = /^[A-Za-z0-9_.:-]{1,190}$/;
const NAME_HELP = 'letters, digits and . _ : - (at most 190)';

/** Parses one name (a queue, a job name) given to `flag`. */
export function nameFlag(flag: string) {
  return (value: string): string => {
    if (!NAME.test(value)) {
      throw new UsageError(`${flag} must be a name (${NAME_HELP}), got "${value}".`);
    }
    return value;
  };
}

/** Checks queue names given as arguments (`queue:pause high low`). */
export function queueArguments(names: string[]): string[] {
  const bad = names.find((n) => !NAME.test(n));
  if (bad !== undefined) {
    throw new UsageError(`Queue names must be ${NAME_HELP}, got "${bad}".`);
  }
  return [...new Set(names)];
}

/** Parses --connection: one of the queue connections. */
export function connectionFlag(flag: string) {
  return (value: string): string => {
    if (!(CONNECTIONS as readonly string[]).includes(value)) {
      throw new UsageError(`${flag} must be one of ${CONNECTIONS.join(', ')}, got "${value}".`);
    }
    return value;
  };
}

/** Parses a flag that takes one of a few words (`--state pending`). */
export function choiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${value}".`);
    }
    return value as T;
  };
}
