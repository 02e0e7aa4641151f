import { Argument, Option, type Command } from 'commander';
import type { App } from '../app.js';
import { newCommand } from '../command.js';
import type { CommandDefinition, CommandInput } from './define.js';

/**
 * The commander Command of an app command: its arguments and options, and an action that runs
 * the handler on `app` (the App that loaded the config, so the config loads once). The handler's
 * number becomes the exit code through process.exitCode, as the built-in commands set it.
 */
export function buildAppCommand(definition: CommandDefinition, app: App): Command {
  const command = newCommand(
    definition.name,
    definition.description,
    definition.example ?? `run ${definition.name}`,
  );
  const args = definition.arguments ?? [];
  for (const arg of args) {
    const required = arg.required ?? true;
    const token = `${arg.name}${arg.variadic ? '...' : ''}`;
    command.addArgument(
      new Argument(required ? `<${token}>` : `[${token}]`, arg.description ?? ''),
    );
  }
  for (const option of definition.options ?? []) {
    const o = new Option(option.flags, option.description ?? '');
    if (option.default !== undefined) o.default(option.default);
    command.addOption(o);
  }
  return command.action(async (...values: unknown[]) => {
    // commander passes the arguments in order, then the options object, then the command.
    const opts = { ...(values[args.length] as Record<string, unknown>) };
    delete opts.config;
    delete opts.verbose;
    const input: CommandInput = {
      args: Object.fromEntries(
        args.map((a, i) => [a.name, values[i] as string | string[] | undefined]),
      ),
      options: opts,
      dispatch: (job, payload, options) => app.dispatcher().dispatch(job, payload, options),
      log: app.log(),
      env: app.rawEnv,
    };
    const code = await definition.handler(input);
    if (typeof code === 'number' && Number.isInteger(code) && code !== 0) process.exitCode = code;
  });
}
