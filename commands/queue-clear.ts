import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { confirmDestructive } from '../src/cli/confirm.js';
import { say } from '../src/cli/output.js';
import { connectionFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:clear',
    'Delete the waiting (pending and delayed) jobs of a queue',
    'run queue:clear --queue mail --force',
  )
    .option('--queue <queue>', 'the queue to clear', queueFlag('--queue'), 'default')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--force', 'do not ask for confirmation')
    .addHelpText('after', '\nJobs a worker is running are left to finish.\n')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const queues = app.queues();
        const connection: string = opts.connection ?? queues.defaultName;
        await confirmDestructive(
          `Delete every waiting job of queue "${opts.queue}" on the ${connection} connection?`,
          opts.force,
        );
        const cleared = await (await queues.get(connection)).clear(opts.queue);
        say(`Cleared ${cleared} job${cleared === 1 ? '' : 's'} from queue ${opts.queue}.`);
      }),
    );
}
