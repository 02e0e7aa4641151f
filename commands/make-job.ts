import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand, triesFlag } from '../src/cli/command.js';
import { interactive } from '../src/cli/confirm.js';
import { paint, say } from '../src/cli/output.js';
import { CONFIG_FILES, findConfigFile } from '../src/config/load-config.js';
import { JobsmithError, UsageError } from '../src/errors.js';
import { MAX_TIMER_MS, queueNameProblem } from '../src/jobs/limits.js';
import { JobRegistry } from '../src/jobs/registry.js';
import { defaultJobsDir, planJob, writeJob, type JobPlan } from '../src/make/job-file.js';
import { nameFlag, queueFlag } from '../src/queue/names.js';

/** The longest job timeout, in whole seconds: the longest a timer can wait. */
const MAX_TIMEOUT_S = Math.floor(MAX_TIMER_MS / 1000);

export default function command() {
  return newCommand(
    'make:job',
    'Create a job file from a template and register it',
    'run make:job SendDigest --queue mail --tries 5',
  )
    .argument('<name>', 'job name in PascalCase, e.g. SendDigest')
    .option(
      '--job-name <name>',
      'name stored with every job (default: send.digest for SendDigest)',
      nameFlag('--job-name'),
    )
    .option('--queue <queue>', 'default queue of the job', queueFlag('--queue'))
    .option('--tries <n>', 'attempts in all (1 to 1000000)', triesFlag('--tries'))
    .option(
      '--timeout <seconds>',
      `seconds before the handler is aborted (1 to ${MAX_TIMEOUT_S})`,
      intFlag('--timeout', { min: 1, max: MAX_TIMEOUT_S }),
    )
    .option('--dir <path>', 'folder for the job file (default: jobs/ beside the config file)')
    .option('--force', 'overwrite an existing file')
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
        const explicit = opts.config ?? app.rawEnv.JOBSMITH_CONFIG;
        // The config every command would load (.ts, .mts, .js or .mjs), else a new .ts one.
        const configFile = findConfigFile(app.cwd, explicit) ?? resolve(app.cwd, CONFIG_FILES[0]!);
        // Ask on a terminal for what the flags did not say; never prompt without one.
        const answers: Partial<Awaited<ReturnType<typeof ask>>> = interactive()
          ? await ask(opts)
          : {};
        // The config as every command loads it: for jobsDir and the job names in use. A config
        // that fails to load stops here, unless this re-creates (--force) the job it imports.
        let loaded: Awaited<ReturnType<typeof app.config>> | undefined;
        let loadError: unknown;
        try {
          loaded = await app.config();
        } catch (error) {
          loadError = error;
        }
        const plan = planJob({
          name,
          jobName: opts.jobName,
          queue: opts.queue ?? answers.queue ?? 'default',
          tries: opts.tries ?? answers.tries ?? 3,
          timeout: opts.timeout ?? answers.timeout ?? 60,
          dir: opts.dir
            ? resolve(app.cwd, opts.dir)
            : defaultJobsDir(configFile, loaded?.config.jobsDir),
          configFile,
          force: Boolean(opts.force),
        });
        if (loadError !== undefined && !plan.regenerating) throw loadError;
        if (loaded) checkNameFree(plan, new JobRegistry(loaded.config.jobs ?? []), loaded.file);
        const result = writeJob(plan);
        say(`${paint.green('Created')}  ${result.file}  (job "${result.jobName}")`);
        if (result.registration.done)
          say(`${paint.green('Registered')}  ${result.exportName} in ${result.registration.file}`);
        else say(paint.yellow(result.registration.instruction));
      }),
    );
}

/**
 * A job name in use would register a second job of that name, and every command would refuse
 * the config afterwards: refuse it before anything is written. Re-creating a job (--force) may
 * keep the name its own file holds.
 */
function checkNameFree(plan: JobPlan, registry: JobRegistry, configFile?: string): void {
  if (!registry.get(plan.jobName)) return;
  if (plan.regenerating && existsSync(plan.file)) {
    const own = readFileSync(plan.file, 'utf8');
    if (own.includes(`name: '${plan.jobName}'`)) return;
  }
  const where = registry.names().includes(plan.jobName)
    ? ` in ${configFile ?? 'the config'}`
    : ' (a built-in job)';
  throw new UsageError(
    `A job named "${plan.jobName}" is already registered${where}; nothing was written.`,
    { hint: 'Give the new job another stored name with --job-name, e.g. --job-name mail.digest.' },
  );
}

async function ask(opts: { queue?: string; tries?: number; timeout?: number }) {
  const p = await import('@clack/prompts');
  const cancelled = (v: unknown) => {
    if (p.isCancel(v)) throw new JobsmithError('Cancelled; nothing was written.');
    return v as string;
  };
  const queue =
    opts.queue ??
    cancelled(
      await p.text({
        message: 'Queue',
        initialValue: 'default',
        validate: (v) => queueNameProblem(v ?? ''),
      }),
    );
  const positive = (v: string | undefined) =>
    /^[1-9]\d{0,6}$/.test(v ?? '') ? undefined : 'A whole number from 1 to 1000000';
  const tries =
    opts.tries ??
    Number(
      cancelled(
        await p.text({ message: 'Tries (attempts in all)', initialValue: '3', validate: positive }),
      ),
    );
  const timeout =
    opts.timeout ??
    Number(
      cancelled(
        await p.text({ message: 'Timeout (seconds)', initialValue: '60', validate: positive }),
      ),
    );
  return { queue, tries, timeout };
}
