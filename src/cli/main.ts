import { exportDotenv } from '../config/dotenv-file.js';
import { UsageError } from '../errors.js';
import { maskSecretSettings } from '../logging/secrets.js';
import type { Command } from 'commander';
import { handleError } from './handle-error.js';
import { renderGroupHelp, renderHelp } from './help.js';
import { COMMANDS, findCommand } from './manifest.js';
import { nearest } from './suggest.js';

import { packageVersion as version } from '../util/package.js';

/**
 * Entry point of `bin/run`: finds the command, loads only its module, and hands the rest of
 * the arguments to it. Returns the exit code.
 */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const { before, after } = leadingGlobals(argv);
    const [first, ...tail] = after;
    // Global options given before the command go right after its name, where it reads them.
    const rest = first === 'help' ? tail : [...before, ...tail];
    // After --version: `run --version` reads no file.
    if (first !== '--version' && first !== '-V') exportDotenv(process.cwd());
    if (first === undefined || first === '--help' || first === '-h') {
      process.stdout.write(await helpWithAppCommands(before));
      return 0;
    }
    if (first === '--version' || first === '-V') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (first === 'help') {
      if (rest[0] === undefined) {
        process.stdout.write(await helpWithAppCommands(before));
        return 0;
      }
      return await runCommand(rest[0], ['--help']);
    }
    return await runCommand(first, rest);
  } catch (error) {
    return handleError(error, verbose);
  }
}

/**
 * Splits the options every command takes (`--config PATH`, `--config=PATH`, `-v`,
 * `--verbose`) off the front of `argv`, so `run --config app.ts queue:size` works like
 * `run queue:size --config app.ts`.
 */
function leadingGlobals(argv: string[]): { before: string[]; after: string[] } {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '-v' || arg === '--verbose' || arg.startsWith('--config=')) i += 1;
    else if (arg === '--config') {
      if (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-')) {
        throw new UsageError('--config needs a path: run --config jobsmith.config.ts COMMAND.');
      }
      i += 2;
    } else break;
  }
  return { before: argv.slice(0, i), after: argv.slice(i) };
}

async function runCommand(name: string, args: string[]): Promise<number> {
  // The environment's secrets are masked in everything printed from here on (the App adds .env's).
  maskSecretSettings(process.env);
  const entry = findCommand(name);
  if (entry) {
    // commander loads only here, so `run --help` and `run --version` do without it.
    const { default: build } = await entry.load();
    return parseWith(
      build().addHelpText('afterAll', () => renderGroupHelp(entry)),
      name,
      args,
    );
  }
  // Not a built-in: an app command of the config (defineCommand), which loads the config.
  const app = name.startsWith('-')
    ? undefined
    : await (await import('./app-commands/find.js')).loadAppCommands(args);
  const definition = app?.commands.find((c) => c.name === name);
  if (app && definition) {
    try {
      const { buildAppCommand } = await import('./app-commands/build.js');
      return await parseWith(buildAppCommand(definition, app.app), name, args);
    } finally {
      await app.app.close();
    }
  }
  await app?.app.close();
  const names = [...COMMANDS.map((c) => c.name), ...(app?.commands.map((c) => c.name) ?? [])];
  const guess = nearest(name, names);
  const what = name.startsWith('-') ? `Unknown option "${name}"` : `Unknown command "${name}"`;
  throw new UsageError(`${what}.${guess ? ` Did you mean "${guess}"?` : ''}`, {
    hint: 'Run `run --help` to list the commands.',
  });
}

/** Parses `args` for `command` under a `run` program; resolves with the exit code. */
async function parseWith(command: Command, name: string, args: string[]): Promise<number> {
  const { Command: Program, CommanderError } = await import('commander');
  const program = new Program('run')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addCommand(command);
  // Subcommands inherit neither exitOverride nor output settings: set them on each.
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ outputError: () => {} });
  }
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    throw error;
  }
  // A command that fails without throwing (a threshold exceeded) sets process.exitCode.
  return process.exitCode !== undefined ? Number(process.exitCode) : 0;
}

/**
 * `run --help`: the built-in commands, and the config's own under "App commands" when there is
 * a config file. A config that fails to load does not hide the built-in help: a line says why.
 */
async function helpWithAppCommands(globalArgs: string[]): Promise<string> {
  try {
    const { loadAppCommands } = await import('./app-commands/find.js');
    const app = await loadAppCommands(globalArgs);
    await app?.app.close();
    return renderHelp(version(), app?.commands ?? []);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `${renderHelp(version())}\nApp commands: not listed, the config failed to load: ${reason}\n`;
  }
}

/**
 * `run help queue:work | head -3` closes the pipe before we finish writing; Node then raises
 * EPIPE as an unhandled error with a stack trace. A reader that stopped reading is not a
 * failure, so we stop quietly, as `cat` and `git` do.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
