import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { failedJobsOf } from '../src/workflows/batches/cli-failed.js';
import { batchFailedJson, batchJson, showLines } from '../src/workflows/batches/cli-present.js';
import {
  batchArgument,
  cancelledJobsOf,
  findBatchView,
} from '../src/workflows/batches/cli-read.js';
import { firstLine } from '../src/failed/present.js';

export default function command() {
  return newCommand(
    'batch:show',
    'Show one job batch: progress, counts, callbacks and its failed jobs',
    'run batch:show 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10 --json',
  )
    .argument('<id>', 'the batch id (as batch() returns it and batch:list shows it)')
    .option(
      '--failed <n>',
      'show at most this many failed jobs with their errors (at most 1000)',
      intFlag('--failed', { min: 0, max: 1000 }),
      20,
    )
    .option('--json', 'print the batch as JSON, with its failed jobs')
    .addHelpText(
      'after',
      '\nEach failed job shows the first line of its error from failed_jobs (gone once forgotten\n' +
        'or pruned). Exit codes: 0 shown; 1 no batch has the id (or the storage failed); 2 a bad\n' +
        'argument.\n',
    )
    .action(async (ref: string, opts) =>
      withApp(globals(opts), async (app) => {
        const id = batchArgument(ref);
        const { knex } = await app.db();
        const batch = await findBatchView(knex, id);
        const failed = await failedJobsOf(knex, batch, opts.failed);
        const cancelledJobs = await cancelledJobsOf(knex, batch.id);
        if (opts.json)
          return printJson({
            ...batchJson(batch),
            cancelled_jobs: cancelledJobs,
            failed_jobs: failed.map(batchFailedJson),
          });
        say(`${paint.bold(`Batch ${batch.id}`)}${batch.name ? `  ${batch.name}` : ''}`);
        for (const [label, value] of showLines(batch, cancelledJobs, app.queues().defaultName))
          say(`${label.padEnd(11)} ${value}`);
        if (batch.failedJobIds.length === 0) return;
        say('');
        if (failed.length === 0)
          return say(`${batch.failedJobIds.length} failed jobs; --failed N shows them.`);
        await printTable(
          ['Job', 'Failed job', 'Name', 'Failed at', 'Error'],
          failed.map((f) => [
            f.jobId,
            f.failed ? f.failed.id : '-',
            f.failed?.name ?? '-',
            f.failed?.failedAt ?? '-',
            f.failed
              ? firstLine(f.failed.exception, 80)
              : '(not in failed_jobs: forgotten or pruned)',
          ]),
        );
        const more = batch.failedJobIds.length - failed.length;
        if (more > 0)
          say(paint.dim(`${more} more failed jobs; --failed N shows more, --json lists every id.`));
      }),
    );
}
