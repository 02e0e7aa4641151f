import { resolve } from 'node:path';
import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { interactive } from '../src/cli/confirm.js';
import { paint, say } from '../src/cli/output.js';
import { CONFIG_FILES } from '../src/config/load-config.js';
import { JobsmithError } from '../src/errors.js';
import { defaultJobsDir, makeJob } from '../src/make/job-file.js';

export default function command() {
  return newCommand(
    'make:job',
    'Create a job file from a template and register it',
    'run make:job SendDigest --queue mail --tries 5',
  )
    .argument('<name>', 'job name in PascalCase, e.g. SendDigest')
    .option('--job-name <name>', 'name stored with every job (default: send.digest for SendDigest)')
    .option('--queue <queue>', 'default queue of the job')
    .option('--tries <n>', 'attempts in all', intFlag('--tries', { min: 1 }))
    .option(
      '--timeout <seconds>',
      'seconds before the handler is aborted',
      intFlag('--timeout', { min: 1 }),
    )
    .option('--dir <path>', 'folder for the job file (default: jobs/ beside the config file)')
    .option('--force', 'overwrite an existing file')
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
        const explicit = opts.config ?? app.rawEnv.JOBSMITH_CONFIG;
        const configFile = resolve(app.cwd, explicit ?? CONFIG_FILES[0]!);
        // Ask on a terminal for what the flags did not say; never prompt without one.
        const answers: Partial<Awaited<ReturnType<typeof ask>>> = interactive()
          ? await ask(opts)
          : {};
        const result = makeJob({
          name,
          jobName: opts.jobName,
          queue: opts.queue ?? answers.queue ?? 'default',
          tries: opts.tries ?? answers.tries ?? 3,
          timeout: opts.timeout ?? answers.timeout ?? 60,
          dir: opts.dir ? resolve(app.cwd, opts.dir) : defaultJobsDir(configFile),
          configFile,
          force: Boolean(opts.force),
        });
        say(`${paint.green('Created')}  ${result.file}  (job "${result.jobName}")`);
        if (result.registration.done)
          say(`${paint.green('Registered')}  ${result.exportName} in ${result.registration.file}`);
        else say(paint.yellow(result.registration.instruction));
      }),
    );
}

async function ask(opts: { queue?: string; tries?: number; timeout?: number }) {
  const p = await import('@clack/prompts');
  const cancelled = (v: unknown) => {
    if (p.isCancel(v)) throw new JobsmithError('Cancelled; nothing was written.');
    return v as string;
  };
  const queue =
    opts.queue ?? cancelled(await p.text({ message: 'Queue', initialValue: 'default' }));
  const positive = (v: string | undefined) =>
    /^[1-9]\d*$/.test(v ?? '') ? undefined : 'A whole number ≥ 1';
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
