import type {
  DispatchOptions,
  DispatchResult,
  JobDefinition,
  JobLogger,
} from '../../jobs/types.js';

/**
 * An app-defined `run` command, as Laravel's `php artisan make:command` gives an app its own
 * artisan commands: made with defineCommand() and listed in the config's `commands`.
 * `run --help` lists it under "App commands"; `run NAME --help` shows its arguments and options.
 */
export interface CommandDefinition {
  readonly kind: 'jobsmith.command';
  /**
   * `group:name` or `name`: lowercase letters, digits and `-`, parts joined by `:` (at most 64
   * characters), and not the name of a built-in command.
   */
  name: string;
  /** One line, shown by `run --help` and `run NAME --help`. */
  description: string;
  /** A sample invocation shown under the help (`run pipeline:republish 42`). @defaultValue `run NAME` */
  example?: string;
  /** Positional arguments, in order. @defaultValue none */
  arguments?: CommandArgument[];
  /** Options, in commander's syntax (`--json`, `--limit <n>`, `-f, --force`). @defaultValue none */
  options?: CommandOption[];
  /**
   * Runs the command. Resolves with the exit code, or with nothing for 0. A thrown
   * JobsmithError prints its message and hint and exits 1; a UsageError exits 2; anything
   * else prints its message (its stack with --verbose) and exits 1.
   */
  handler: (input: CommandInput) => unknown;
}

export interface CommandArgument {
  /** Its key in `input.args` (letters, digits, `-`, `_`). */
  name: string;
  description?: string;
  /** @defaultValue true */
  required?: boolean;
  /** Takes every remaining word, as an array (only the last argument). @defaultValue false */
  variadic?: boolean;
}

export interface CommandOption {
  /** commander's flags: `--json`, `--limit <n>` (a value), `--tag [tag]` (an optional value). */
  flags: string;
  description?: string;
  /** Value when the option is not given. */
  default?: string | boolean | string[];
}

/** What a command's handler gets. */
export interface CommandInput {
  /** The positional arguments by name: a string, an array for a variadic one, undefined if left out. */
  args: Record<string, string | string[] | undefined>;
  /**
   * The options by commander's camelCase key (`--older-than` → `olderThan`): true for a flag,
   * the string given for a value; `--config` and `--verbose` are not among them.
   */
  options: Record<string, unknown>;
  /** Dispatches a job on its connection (QUEUE_CONNECTION by default), as ctx.dispatch does in a job. */
  dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult>;
  /** JSON lines to LOG_FILE (and a readable line on a terminal's stderr). */
  log: JobLogger;
  /** The process's environment over `.env`, as every command reads it. */
  env: Readonly<Record<string, string | undefined>>;
}

const NAME = /^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)*$/;
const ARGUMENT = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Defines an app command; list it in `defineConfig({ commands: [...] })`.
 *
 * @throws TypeError when the name, an argument or the handler is malformed (at import time,
 *   so a typo never reaches production).
 */
export function defineCommand(
  definition: Omit<CommandDefinition, 'kind'> & { kind?: 'jobsmith.command' },
): CommandDefinition {
  const problem = commandProblem(definition);
  if (problem) throw new TypeError(`defineCommand: ${problem}`);
  return { ...definition, kind: 'jobsmith.command' };
}

/** What is wrong with a command definition, or undefined. */
export function commandProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null)
    return 'a command is an object made with defineCommand().';
  const d = value as Partial<CommandDefinition>;
  if (typeof d.name !== 'string' || !NAME.test(d.name) || d.name.length > 64) {
    return `command name ${JSON.stringify(d.name)} must be lowercase letters, digits and -, parts joined by ":" (pipeline:republish), at most 64 characters.`;
  }
  if (typeof d.description !== 'string' || d.description.trim() === '') {
    return `command "${d.name}" needs a one-line description.`;
  }
  if (typeof d.handler !== 'function') return `command "${d.name}" has no handler function.`;
  const args = d.arguments ?? [];
  if (!Array.isArray(args)) return `command "${d.name}": arguments must be an array.`;
  const names = new Set<string>();
  for (const [i, arg] of args.entries()) {
    if (!arg || typeof arg.name !== 'string' || !ARGUMENT.test(arg.name)) {
      return `command "${d.name}": arguments[${i}] needs a name of letters, digits, - and _.`;
    }
    if (names.has(arg.name)) return `command "${d.name}": two arguments are named "${arg.name}".`;
    names.add(arg.name);
    if (arg.variadic && i !== args.length - 1) {
      return `command "${d.name}": only the last argument can be variadic ("${arg.name}" is not last).`;
    }
  }
  for (const [i, option] of (d.options ?? []).entries()) {
    if (!option || typeof option.flags !== 'string' || !/--[a-z]/.test(option.flags)) {
      return `command "${d.name}": options[${i}] needs flags such as "--json" or "--limit <n>".`;
    }
    if (/--(config|verbose|help)\b/.test(option.flags)) {
      return `command "${d.name}": ${option.flags} is an option every command has already.`;
    }
  }
  return undefined;
}
