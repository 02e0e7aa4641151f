// .env, read apart from the settings' checks (env.ts loads zod): `run` puts it into process.env
// before any command module loads (src/cli/main.ts), and a cold start should stay light.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from '../errors.js';

/** The variables of `.env` in `cwd` ({} without one). @throws ConfigError when it cannot be read. */
export function readDotenv(cwd: string): Record<string, string> {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return {};
  try {
    return parseDotenv(readFileSync(file));
  } catch (error) {
    throw new ConfigError(`Cannot read ${file}: ${(error as Error).message}`, {
      hint: 'Fix or remove the .env file.',
    });
  }
}

/**
 * Puts `.env`'s variables into `processEnv` where it has none, as `run` starts a command: the
 * config file is code that reads process.env as it loads (the docs' own
 * `new Bot(process.env.TELEGRAM_BOT_TOKEN!)`), and a handler may read it too; as Laravel's env()
 * sees .env, so do they. The real environment still wins. Only the CLI does this: an app that
 * embeds jobsmith (connect()) keeps its own process.env as it is.
 * @throws ConfigError when .env cannot be read.
 */
export function exportDotenv(cwd: string, processEnv: NodeJS.ProcessEnv = process.env): void {
  exported.clear();
  for (const [key, value] of Object.entries(readDotenv(cwd)))
    if (processEnv[key] === undefined) {
      processEnv[key] = value;
      exported.add(key);
    }
}

/** The variables exportDotenv put into process.env (from .env, not the real environment). */
const exported = new Set<string>();

/**
 * Whether `key` is set in the real environment, not only in .env (which `run` copies into
 * process.env): the environment wins over .env, so a command that writes .env (key:generate,
 * telegram:login --write-env) warns or refuses only when the real environment holds the key.
 */
export function setInEnvironment(key: string): boolean {
  return Boolean(process.env[key]?.trim()) && !exported.has(key);
}
