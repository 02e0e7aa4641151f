import type { CommanderError } from 'commander';
import { JobsmithError, UsageError } from '../errors.js';
import { printable } from '../logging/printable.js';
import { paint } from './output.js';

/**
 * The one place that turns any error into a message and an exit code: 2 for usage errors, 1
 * for everything else. Expected errors (JobsmithError) print their message and hint; only
 * --verbose adds the stack. Everything printed passes through the redactor and is bounded
 * (a 5 MB message prints its first few thousand characters and says how much was cut).
 */
export function handleError(error: unknown, verbose: boolean): number {
  if (isCommanderError(error)) {
    // Commander already knows help and version are not failures.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    if (error.code === 'commander.help') return 0;
    const message = error.message.replace(/^error:\s*/, '');
    write(`${paint.red('Error:')} ${message}`);
    write(paint.dim('Run the command with --help to see what it accepts.'));
    return 2;
  }
  if (error instanceof JobsmithError) {
    write(`${paint.red('Error:')} ${error.message}`);
    if (error.hint) write(paint.dim(error.hint));
    if (verbose) writeStack(error);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  write(`${paint.red('Error:')} ${err.message}`);
  if (verbose) writeStack(err);
  else write(paint.dim('Run again with --verbose to see the stack trace.'));
  return 1;
}

/**
 * Commander's errors, recognised by shape rather than `instanceof` so that `run --help` and
 * `run --version` never load commander (cold start, see docs/performance.md).
 */
function isCommanderError(error: unknown): error is CommanderError {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('commander.');
}

function writeStack(error: Error): void {
  let current: unknown = error;
  let depth = 0;
  while (current instanceof Error && depth < 5) {
    write(paint.dim((depth ? 'Caused by: ' : '') + (current.stack ?? current.message)));
    current = current.cause;
    depth++;
  }
}

function write(line: string): void {
  process.stderr.write(`${printable(line)}\n`);
}

export { UsageError };
