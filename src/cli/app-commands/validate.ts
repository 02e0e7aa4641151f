import { commandProblem } from './define.js';

const MAKE =
  'Make every entry of `commands` with defineCommand({ name, description, handler }) and list that value.';

/** Checks the config's `commands`: an array of defineCommand() values with unique names. */
export function checkCommands(
  commands: unknown,
  fail: (problem: string, hint?: string) => never,
): void {
  if (commands === undefined) return;
  if (!Array.isArray(commands)) fail('`commands` must be an array.', MAKE);
  const seen = new Set<string>();
  for (const [index, command] of commands.entries()) {
    if ((command as { kind?: unknown } | null)?.kind !== 'jobsmith.command') {
      fail(`commands[${index}] is not a command made with defineCommand().`, MAKE);
    }
    const problem = commandProblem(command);
    if (problem) fail(`commands[${index}]: ${problem}`);
    const { name } = command as { name: string };
    if (seen.has(name)) fail(`two commands are named "${name}"; command names must be unique.`);
    seen.add(name);
  }
}
