/*
 * The example's view of the environment, read the way `run` reads jobsmith's own: the process's
 * variables over `.env` in the working directory. Jobs and the config both read it here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

// Node's require, not `import`: the config loads through jiti, which would transpile dotenv again.
const dotenv = createRequire(import.meta.url)('dotenv') as typeof import('dotenv');

export type EnvSource = Record<string, string | undefined>;

/** process.env over `<cwd>/.env` (a missing file is fine: the environment alone). */
export function readEnv(cwd = process.cwd()): EnvSource {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}
