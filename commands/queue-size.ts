import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { connectionFlag, queueArguments } from '../src/queue/names.js';
import { queueReport } from '../src/queue/sizes.js';

export default function command() {
  return newCommand(
    'queue:size',
    'Show pending, delayed, reserved and failed jobs per queue',
    'run queue:size default mail --json',
  )
    .argument('[queues...]', 'queues to show (default: every queue with jobs or failed jobs)')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print an array of { queue, pending, delayed, reserved, failed, paused }')
    .addHelpText(
      'after',
      '\nFailed counts the failed jobs of the same connection; run queue:failed to see them all.\nPaused: yes while run queue:pause holds the queue (run queue:paused lists them).\n',
    )
    .action(async (queues: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const names = queueArguments(queues);
        const driver = await app.queues().get(opts.connection);
        const report = await queueReport(driver, (await app.db()).knex, names);
        if (opts.json) return printJson(report);
        if (report.length === 0) return say('No queue holds jobs or failed jobs.');
        await printTable(
          ['Queue', 'Pending', 'Delayed', 'Reserved', 'Failed', 'Paused'],
          report.map((r) => [
            r.queue,
            r.pending,
            r.delayed,
            r.reserved,
            r.failed,
            r.paused ? paint.yellow('yes') : 'no',
          ]),
        );
      }),
    );
}
