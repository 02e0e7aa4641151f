import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { batchJson } from '../src/workflows/batches/cli-present.js';
import { batchArgument } from '../src/workflows/batches/cli-read.js';
import {
  retryBatch,
  type KeptBatchJob,
  type RetriedBatchJob,
} from '../src/workflows/batches/cli-retry.js';

const AFTER_HELP = `
Each failed job goes back to the connection and queue it failed on, as queue:retry puts it
back (attempts from zero, the tries of its job definition), and stays a job of the batch: the
batch counts it pending again, no longer failed, and finishes when it has its outcome. A batch
cancelled (by its first failure, or by batch:cancel) is resumed, so the retried jobs run; its
jobs that ended cancelled are not failed jobs and are not retried, so its \`then\` will not run.
Callbacks that already ran do not run again; \`then\` runs once every job has succeeded.
Exit codes: 0 every failed job was retried (or there were none); 1 no batch has the id, or a
failed job was kept (its unique key is held) or is no longer in failed_jobs (the others are
retried all the same); 2 a bad argument.
`;

export default function command() {
  return newCommand(
    'queue:retry-batch',
    "Push a job batch's failed jobs back onto their queues, as jobs of the batch",
    'run queue:retry-batch 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10',
  )
    .argument('<id>', 'the batch id (as batch() returns it and batch:list shows it)')
    .option('--json', 'print { retried, kept, missing, resumed, cancelled_jobs, batch }')
    .addHelpText('after', AFTER_HELP)
    .action(async (ref: string, opts) =>
      withApp(globals(opts), async (app) => {
        const id = batchArgument(ref);
        const result = await retryBatch(
          {
            db: await app.db(),
            registry: await app.registry(),
            driver: (connection) => app.queues().get(connection),
          },
          id,
        );
        if (opts.json) {
          printJson({
            retried: result.retried.map(retriedJson),
            kept: result.kept.map(keptJson),
            missing: result.missing,
            resumed: result.resumed,
            cancelled_jobs: result.cancelledJobs,
            batch: batchJson(result.batch),
          });
        } else {
          for (const r of result.retried) report(r);
          for (const k of result.kept) reportKept(k);
          const n = result.retried.length;
          say(
            `Retried ${n} failed job${n === 1 ? '' : 's'} of batch ${id}` +
              (result.resumed ? '; the batch was cancelled and is resumed.' : '.'),
          );
          const c = result.cancelledJobs;
          if (c > 0)
            say(
              `${c} job${c === 1 ? '' : 's'} of the batch ended cancelled and ${c === 1 ? 'is' : 'are'} not retried (only failed jobs are), so its then callback will not run.`,
            );
        }
        failIfIncomplete(result.kept.length, result.missing);
      }),
    );
}

function failIfIncomplete(kept: number, missing: string[]): void {
  const problems: string[] = [];
  if (kept > 0)
    problems.push(
      `Kept ${kept} failed job${kept === 1 ? '' : 's'}: ${kept === 1 ? 'its unique key is' : 'their unique keys are'} held by live jobs.`,
    );
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 10)
      .map((m) => `#${m}`)
      .join(', ');
    const more = missing.length > 10 ? ` and ${missing.length - 10} more` : '';
    problems.push(
      `${missing.length} failed job${missing.length === 1 ? ' is' : 's are'} no longer in failed_jobs (forgotten or pruned): ${shown}${more}.`,
    );
  }
  if (problems.length === 0) return;
  throw new JobsmithError(problems.join(' '), {
    hint:
      kept > 0
        ? 'Run the command again once those jobs are done.'
        : 'Those jobs cannot be re-run; the batch keeps counting them as failed.',
  });
}

function retriedJson(r: RetriedBatchJob) {
  return {
    failed_job_id: r.failed.id,
    old_job_id: r.oldJobId,
    job_id: r.jobId,
    name: r.failed.name,
    connection: r.failed.connection,
    queue: r.failed.queue,
    unregistered: r.unregistered,
  };
}

function keptJson(k: KeptBatchJob) {
  return {
    failed_job_id: k.failed.id,
    old_job_id: k.failed.originalId,
    name: k.failed.name,
    unique_key: k.key,
    held_by: k.heldBy,
  };
}

function report(r: RetriedBatchJob): void {
  say(
    `${paint.green('Retried')}  #${r.failed.id} ${r.failed.name} on ${r.failed.connection}/${r.failed.queue} (was job #${r.oldJobId}) → job #${r.jobId}`,
  );
  if (r.unregistered)
    process.stderr.write(
      `${paint.yellow(`${r.failed.name} is not registered in the config: it will fail again until it is.`)}\n`,
    );
}

function reportKept(k: KeptBatchJob): void {
  say(
    `${paint.yellow('Kept')}     #${k.failed.id} ${k.failed.name}: unique key ${JSON.stringify(k.key)} is held by job #${k.heldBy}`,
  );
}
