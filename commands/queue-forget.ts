import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { failedJobArguments } from '../src/failed/flags.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';

export default function command() {
  return newCommand('queue:forget', 'Delete one failed job', 'run queue:forget 42')
    .argument('<id>', 'failed job id or uuid')
    .action(async (id: string, opts) =>
      withApp(globals(opts), async (app) => {
        const [ref] = failedJobArguments([id]);
        const store = new DatabaseFailedJobStore((await app.db()).knex);
        const row = await store.find(ref!);
        if (!row || (await store.forget([row.id])) === 0) {
          throw new JobsmithError(`No failed job with id or uuid "${id}".`, {
            hint: 'Run `run queue:failed` to see the failed jobs.',
          });
        }
        say(`${paint.yellow('Forgot')}  failed job #${row.id} ${row.name} (${row.uuid})`);
      }),
    );
}
