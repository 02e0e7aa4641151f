import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConfigSection } from './sections.js';
import { ConfigError } from '../errors.js';
import type { JobsmithConfig } from './define.js';
import { queueSettingsProblem, queueVariable } from './queue-policies.js';
import { queueNameProblem } from '../jobs/limits.js';
import { checkBreakers } from '../flow/breakers/validate.js';
import { checkCommands } from '../cli/app-commands/validate.js';
import { rateLimitRules } from '../flow/rate-limits/config.js';
import type { RateLimitRule } from '../flow/rate-limits/store.js';

/** File names looked for in the working directory, in this order. */
export const CONFIG_FILES = [
  'jobsmith.config.ts',
  'jobsmith.config.mts',
  'jobsmith.config.js',
  'jobsmith.config.mjs',
];

export interface LoadedConfig {
  /** Absolute path of the file, or undefined when none was found (an empty config). */
  file?: string;
  config: JobsmithConfig;
  /** The config's `rateLimits`, checked, by name (empty without a config file). */
  rateLimits: ReadonlyMap<string, RateLimitRule>;
}

/** Finds the config file: an explicit path (flag or JOBSMITH_CONFIG) or one in `cwd`. */
export function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw new ConfigError(`Config file not found: ${file}`, {
        hint: 'Check --config or JOBSMITH_CONFIG, or run from the folder that holds jobsmith.config.ts.',
      });
    }
    return file;
  }
  return CONFIG_FILES.map((name) => resolve(cwd, name)).find((file) => existsSync(file));
}

/**
 * Loads a config file. TypeScript loads through jiti, so no build step is needed; `jobsmith`
 * imported from the config resolves to this very package, installed or not.
 */
export async function loadConfig(
  cwd: string,
  explicit?: string,
  sections: readonly ConfigSection[] = [],
): Promise<LoadedConfig> {
  const file = findConfigFile(cwd, explicit);
  if (!file) return { config: {}, rateLimits: new Map() };
  let exported: unknown;
  try {
    const { createJiti } = await import('jiti');
    const jiti = createJiti(import.meta.url, {
      alias: aliases(file),
      interopDefault: true,
    });
    exported = await jiti.import(pathToFileURL(file).href);
  } catch (error) {
    // A ConfigError thrown while the file ran (defineJob, breaker(), withoutOverlapping()
    // checking their options) names the problem itself: report it as an invalid config, with
    // its own hint, not as a file that crashed. By name: jiti may load its own copy of errors.ts.
    if ((error as Error | undefined)?.name === 'ConfigError') {
      const { message, hint } = error as ConfigError;
      throw new ConfigError(`Invalid config in ${file}: ${message}`, { hint, cause: error });
    }
    throw new ConfigError(`Cannot load ${file}: ${(error as Error).message}`, {
      hint: 'Fix the error in the config file (run with --verbose for the stack).',
      cause: error,
    });
  }
  // jiti's module object answers `.default` even when there is none: ask with `in`.
  if (typeof exported !== 'object' || exported === null || !('default' in exported)) {
    throw new ConfigError(
      `${file} has no default export, so jobsmith would find no jobs and no schedule in it.`,
      {
        hint: EXPORT_DEFAULT,
      },
    );
  }
  const config = await validateConfig((exported as { default: unknown }).default, file, sections);
  if (config.schedule !== undefined || config.scheduleTimezone !== undefined) {
    // Loaded only for configs with a schedule: croner stays out of every other command.
    const { resolveSchedule } = await import('../schedule/resolve.js');
    resolveSchedule(config, file);
  }
  return { file, config, rateLimits: rateLimitRules(withSectionLimits(config, sections), file) };
}

/**
 * A config with a section that declares rate limits (`telegram`: telegram.global, telegram.chat,
 * telegram.group, for its sender) gets them; its own `rateLimits` entries of those names win.
 */
function withSectionLimits(
  config: JobsmithConfig,
  sections: readonly ConfigSection[],
): JobsmithConfig {
  const declared = sections.filter(
    (s) => s.rateLimits && (config as Record<string, unknown>)[s.key] !== undefined,
  );
  if (declared.length === 0) return config;
  const own = config.rateLimits;
  // A malformed rateLimits is reported as it is, by rateLimitRules.
  if (own !== undefined && (typeof own !== 'object' || own === null || Array.isArray(own)))
    return config;
  return {
    ...config,
    rateLimits: Object.assign({}, ...declared.map((s) => s.rateLimits), own),
  };
}

/**
 * `jobsmith` always resolves to the running package. `zod` and `grammy` resolve to the app's own
 * copy when it has one, else to ours, so a fresh app with only a config file works without
 * installing them.
 */
function aliases(configFile: string): Record<string, string> {
  const entry = packageEntry();
  const result: Record<string, string> = {
    // The longer aliases first: jiti matches `jobsmith/telegram` before `jobsmith`.
    'jobsmith/telegram': resolve(dirname(entry), 'telegram', `index${extname(entry)}`),
    'jobsmith/gpt': resolve(dirname(entry), 'gpt', `index${extname(entry)}`),
    'jobsmith/mail': resolve(dirname(entry), 'mail', `index${extname(entry)}`),
    'jobsmith/alerts': resolve(dirname(entry), 'alerts', `index${extname(entry)}`),
    'jobsmith/channels': resolve(dirname(entry), 'channels', `index${extname(entry)}`),
    jobsmith: entry,
  };
  const appRequire = createRequire(configFile);
  // grammY too: a config's Telegram handler (`new Bot(...)`) needs no install of its own.
  for (const name of ['zod', 'grammy']) {
    try {
      appRequire.resolve(name);
    } catch {
      result[name] = createRequire(import.meta.url).resolve(name);
    }
  }
  return result;
}

function packageEntry(): string {
  // src/config/load-config.(ts|js) → src/index.(ts|js)
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  return resolve(dirname(here), '..', `index${ext}`);
}

/**
 * The core's fields of defineConfig({...}); the integrations' sections add theirs. Any other is
 * a typo that would be ignored.
 */
const FIELDS = new Set([
  'jobs',
  'queues',
  'workerQueues',
  'rateLimits',
  'jobsDir',
  'schedule',
  'scheduleTimezone',
  'commands',
]);

const EXPORT_DEFAULT =
  'Export the config as the default export: export default defineConfig({ jobs: [...] }).';
const FIX_ENTRY =
  'Fix that entry in the config: the README (Writing jobs, Queue policies) and docs/ list what each field takes.';

async function validateConfig(
  value: unknown,
  file: string,
  sections: readonly ConfigSection[],
): Promise<JobsmithConfig> {
  const fail = (problem: string, hint = FIX_ENTRY): never => {
    throw new ConfigError(`Invalid config in ${file}: ${problem}`, { hint });
  };
  if (typeof value !== 'object' || value === null)
    fail('the default export is not an object.', EXPORT_DEFAULT);
  const config = value as JobsmithConfig;
  const fields = [...FIELDS, ...sections.map((s) => s.key)];
  const unknown = Object.keys(config).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    fail(
      `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; the fields are ${fields.join(', ')}.`,
    );
  }
  if (config.jobs !== undefined && !Array.isArray(config.jobs)) fail('`jobs` must be an array.');
  const seen = new Set<string>();
  for (const [index, job] of (config.jobs ?? []).entries()) {
    if (!job || (job as { kind?: string }).kind !== 'jobsmith.job') {
      fail(
        `jobs[${index}] is not a job made with defineJob().`,
        'Make every entry of `jobs` with defineJob({ name, handle }) and list that value.',
      );
    }
    // defineJob checks it too; an object copied from a definition ({ ...job }) may lose it.
    if (typeof job.handle !== 'function') fail(`job "${job.name}" has no handle function.`);
    if (seen.has(job.name)) fail(`two jobs are named "${job.name}"; job names must be unique.`);
    seen.add(job.name);
  }
  checkBreakers(config.jobs, fail);
  checkCommands(config.commands, fail);
  if (config.queues !== undefined) {
    if (typeof config.queues !== 'object' || config.queues === null || Array.isArray(config.queues))
      fail('`queues` must be an object keyed by queue name.');
    const variables = new Map<string, string>();
    for (const [queue, settings] of Object.entries(config.queues)) {
      const problem = queueSettingsProblem(queue, settings);
      if (problem) fail(`${problem}.`);
      // Two names that read the same variables (mail.high, mail-high) would share its values.
      const variable = queueVariable(queue, 'tries').replace(/_TRIES$/, '_*');
      const other = variables.get(variable);
      if (other !== undefined)
        fail(
          `queues "${other}" and "${queue}" both read ${variable} from the environment; rename one.`,
        );
      variables.set(variable, queue);
    }
  }
  if (config.workerQueues !== undefined) {
    const list: unknown = config.workerQueues;
    if (!Array.isArray(list) || list.length === 0)
      fail('`workerQueues` must be a non-empty array of queue names, in priority order.');
    for (const [index, queue] of (list as unknown[]).entries()) {
      const problem = queueNameProblem(queue, `workerQueues[${index}] ${JSON.stringify(queue)}`);
      if (problem) fail(`${problem}.`);
    }
    const twice = (list as string[]).find((q, i) => (list as string[]).indexOf(q) !== i);
    if (twice !== undefined) fail(`workerQueues names "${twice}" twice.`);
  }
  for (const section of sections)
    await section.check((config as Record<string, unknown>)[section.key], fail);
  if (config.jobsDir !== undefined && (typeof config.jobsDir !== 'string' || config.jobsDir === ''))
    fail('`jobsDir` must be a folder path.');
  return config;
}
