import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { confirmDestructive } from '../src/cli/confirm.js';
import { say } from '../src/cli/output.js';
import { hoursFlag } from '../src/failed/flags.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';

export default function command() {
  return newCommand(
    'queue:flush',
    'Delete all failed jobs, or those older than some hours',
    'run queue:flush --hours 48 --force',
  )
    .option('--hours <n>', 'only failed jobs older than this many hours', hoursFlag('--hours'))
    .option('--force', 'do not ask for confirmation')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const hours: number | undefined = opts.hours;
        const which =
          hours === undefined
            ? 'every failed job'
            : `failed jobs older than ${hours} hour${hours === 1 ? '' : 's'}`;
        await confirmDestructive(`Delete ${which}?`, opts.force);
        const store = new DatabaseFailedJobStore((await app.db()).knex);
        const deleted = await store.flush(hours);
        say(`Deleted ${deleted} failed job${deleted === 1 ? '' : 's'}.`);
      }),
    );
}
