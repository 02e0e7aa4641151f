import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { say } from '../src/cli/output.js';
import { hoursFlag } from '../src/failed/flags.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';

export default function command() {
  return newCommand(
    'queue:prune-failed',
    'Delete failed jobs older than some hours (for cron: never asks)',
    'run queue:prune-failed --hours 168',
  )
    .requiredOption(
      '--hours <n>',
      'delete failed jobs older than this many hours',
      hoursFlag('--hours'),
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const store = new DatabaseFailedJobStore((await app.db()).knex);
        const deleted = await store.flush(opts.hours);
        say(
          `Pruned ${deleted} failed job${deleted === 1 ? '' : 's'} older than ${opts.hours} hour${opts.hours === 1 ? '' : 's'}.`,
        );
      }),
    );
}
