import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { promoteJobs } from '../src/queue/admin/promote-delete.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand('queue:promote', 'Run delayed jobs now', 'run queue:promote 42 43')
    .argument('<ids...>', 'job ids')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print what was promoted, skipped and not found as JSON')
    .addHelpText(
      'after',
      '\nA delayed job (a delay, a backoff, a RetryAfter) becomes ready at once, behind the jobs\n' +
        'already ready of its queue and priority. A job that is not delayed is left as it is.\n' +
        'Exit 1 when an id matches no live job; the others are promoted all the same.\n',
    )
    .action(async (ids: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const driver = await app.queues().get(opts.connection);
        const result = await promoteJobs(driver, ids);
        const { promoted, skipped, missing } = result;
        if (opts.json) {
          printJson(result);
        } else {
          for (const id of promoted) say(`${paint.green('Promoted')}  job ${id}`);
          for (const r of skipped) {
            say(`${paint.dim('Skipped')}   job ${r.id}: not delayed (${r.status}, ${r.state})`);
          }
        }
        if (missing.length > 0) {
          throw new JobsmithError(
            `No live job with id ${missing.map((id) => `"${id}"`).join(', ')} on the ${driver.connection} connection.`,
            { hint: 'Run `run queue:list QUEUE --state delayed` to see the delayed jobs.' },
          );
        }
      }),
    );
}
