import { JobsmithError, UsageError } from '../errors.js';

/** True when a person can answer a prompt: both ends of the conversation are a terminal. */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/**
 * Destructive commands ask on a terminal and need --force elsewhere (cron, scripts, CI),
 * so a script never hangs on a prompt nor destroys data by accident.
 */
export async function confirmDestructive(
  question: string,
  force: boolean | undefined,
): Promise<void> {
  if (force) return;
  if (!interactive()) {
    throw new UsageError(`${question} Refusing without --force when no terminal is attached.`, {
      hint: 'Pass --force to confirm.',
    });
  }
  const { confirm, isCancel } = await import('@clack/prompts');
  const answer = await confirm({ message: question, initialValue: false });
  if (isCancel(answer) || answer !== true) {
    throw new JobsmithError('Cancelled; nothing was changed.');
  }
}
