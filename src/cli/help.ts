import { COMMANDS, GROUPS, GROUP_TITLES, type CommandEntry } from './manifest.js';
import type { CommandDefinition } from './app-commands/define.js';
import { paint } from './output.js';

/** `run`, `run --help`: every command by group, with a one-line summary and an example. */
export function renderHelp(version: string, appCommands: CommandDefinition[] = []): string {
  const width = Math.max(...[...COMMANDS, ...appCommands].map((c) => c.name.length)) + 2;
  const lines = [
    `${paint.bold('jobsmith')} ${version} — background jobs for TypeScript`,
    '',
    `${paint.bold('Usage:')} run [--config PATH] [--verbose] <command> [options]`,
    '',
  ];
  for (const group of GROUPS) {
    const commands = COMMANDS.filter((c) => c.group === group);
    if (commands.length === 0) continue;
    lines.push(paint.bold(GROUP_TITLES[group]), ...listCommands(commands, width), '');
  }
  if (appCommands.length > 0) {
    const listed = appCommands.map((c) => ({
      name: c.name,
      summary: c.description,
      example: c.example ?? `run ${c.name}`,
    }));
    lines.push(paint.bold('App commands (from the config)'), ...listCommands(listed, width), '');
  }
  lines.push(
    'Options for every command (before or after its name): --config PATH, --verbose, --help.',
    'Listings take --json.',
    'Run `run help <command>` (or `run <command> --help`) for its flags.',
    'Exit codes: 0 success, 1 failure at run time, 2 usage error.',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Appended to `run help CMD` and `run CMD --help`: the commands of the same group, each with
 * its example, so the help of one command leads to its neighbours.
 */
export function renderGroupHelp(current: CommandEntry): string {
  const commands = COMMANDS.filter((c) => c.group === current.group);
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = [
    paint.bold(`Commands in the same group (${GROUP_TITLES[current.group]}):`),
    ...listCommands(commands, width),
    '',
    'Run `run --help` to list every command.',
  ];
  // commander adds the final newline.
  return lines.join('\n');
}

function listCommands(
  commands: Array<Pick<CommandEntry, 'name' | 'summary' | 'example'>>,
  width: number,
): string[] {
  return commands.flatMap((c) => [
    `  ${paint.cyan(c.name.padEnd(width))}${c.summary}`,
    `  ${' '.repeat(width)}${paint.dim(`$ ${c.example}`)}`,
  ]);
}
