import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { cancelBatchView } from '../src/workflows/batches/cli-cancel.js';
import { batchJson } from '../src/workflows/batches/cli-present.js';
import { batchArgument } from '../src/workflows/batches/cli-read.js';

export default function command() {
  return newCommand(
    'batch:cancel',
    'Cancel a job batch: its jobs not yet started are skipped when a worker claims them',
    'run batch:cancel 0b7c9e5e-1d2f-4c43-9a51-2f7f5d1e8a10',
  )
    .argument('<id>', 'the batch id (as batch() returns it and batch:list shows it)')
    .option('--json', 'print { cancelled, batch }: whether this call cancelled it, and the batch')
    .addHelpText(
      'after',
      `
A job of a cancelled batch that a worker claims ends cancelled (not failed, not retried); jobs
already running finish, and can read ctx.batch.cancelled to stop early. A batch already cancelled
stays as it was; one that finished has nothing left to cancel and is not changed either.
Exit codes: 0 cancelled, or already cancelled or finished; 1 no batch has the id (or the storage
failed); 2 a bad argument.
`,
    )
    .action(async (ref: string, opts) =>
      withApp(globals(opts), async (app) => {
        const id = batchArgument(ref);
        const { knex } = await app.db();
        const { cancelled, batch } = await cancelBatchView(knex, id);
        if (opts.json) return printJson({ cancelled, batch: batchJson(batch) });
        if (cancelled) {
          const left = batch.pending;
          return say(
            `${paint.yellow('Cancelled')} batch ${batch.id}: ${left} job${left === 1 ? '' : 's'} not finished: any not started yet are skipped when claimed, any running finish.`,
          );
        }
        if (batch.cancelledAt !== null)
          return say(
            `Batch ${batch.id} was already cancelled at ${new Date(batch.cancelledAt).toISOString()}.`,
          );
        say(
          `Batch ${batch.id} finished at ${new Date(batch.finishedAt!).toISOString()}: nothing left to cancel.`,
        );
      }),
    );
}
