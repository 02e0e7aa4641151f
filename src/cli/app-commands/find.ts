import { ConfigError } from '../../errors.js';
import { App } from '../app.js';
import { COMMANDS } from '../manifest.js';
import type { CommandDefinition } from './define.js';

/** The app commands of the config, with the App that loaded it (close it when done). */
export interface AppCommands {
  app: App;
  commands: CommandDefinition[];
}

/**
 * Loads the config named by `--config` in `args` (or JOBSMITH_CONFIG, or ./jobsmith.config.ts)
 * and returns its `commands`. Resolves undefined when there is no config file at all, so an
 * unknown name in a folder without a config stays a plain "Unknown command".
 *
 * @throws ConfigError when the config fails to load, or names a built-in command.
 */
export async function loadAppCommands(args: string[]): Promise<AppCommands | undefined> {
  const app = new App(process.cwd(), { config: configFlag(args) });
  try {
    const loaded = await app.config();
    if (!loaded.file) {
      await app.close();
      return undefined;
    }
    const commands = loaded.config.commands ?? [];
    const builtIn = commands.find((c) => COMMANDS.some((b) => b.name === c.name));
    if (builtIn) {
      throw new ConfigError(
        `Invalid config in ${loaded.file}: the app command "${builtIn.name}" has the name of a built-in command.`,
        {
          hint:
            'Give it a name of its own, under a group of your app (myapp:' +
            builtIn.name.replace(/:/g, '-') +
            ').',
        },
      );
    }
    return { app, commands };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The value of `--config PATH` or `--config=PATH` among the arguments, if any. */
function configFlag(args: string[]): string | undefined {
  for (const [i, arg] of args.entries()) {
    if (arg === '--') break;
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
    if (arg === '--config') return args[i + 1];
  }
  return undefined;
}
