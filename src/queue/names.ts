import { UsageError } from '../errors.js';
import { isJobName, JOB_NAME_HELP, queueUsageProblem } from '../jobs/limits.js';
import { CONNECTIONS } from './connections.js';

/*
 * Parsers for the names operator commands take (queues, job names, connections). Each names
 * the flag or argument, the bad value and what it accepts, and exits 2 (UsageError). The rules
 * are the core's (src/jobs/limits.ts): what a command accepts, defineJob and dispatch accept.
 */

/** Parses a job name given to `flag` (`--name`, `--job-name`). */
export function nameFlag(flag: string) {
  return (value: string): string => {
    if (!isJobName(value)) {
      throw new UsageError(`${flag} must be a job name: ${JOB_NAME_HELP}; got "${value}".`);
    }
    return value;
  };
}

/** Parses one queue name given to `flag` (`--queue`). */
export function queueFlag(flag: string) {
  return (value: string): string => {
    const problem = queueUsageProblem(value, `${flag} must be a queue name:`);
    if (problem) throw new UsageError(problem);
    return value;
  };
}

/** Checks queue names given as arguments (`queue:pause high low`). */
export function queueArguments(names: string[]): string[] {
  for (const name of names) {
    const problem = queueUsageProblem(name, 'Queue names must be');
    if (problem) throw new UsageError(problem);
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
