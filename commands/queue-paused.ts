import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { printJson, printTable, say } from '../src/cli/output.js';
import { pausedQueueList } from '../src/queue/paused.js';
import { formatDuration } from '../src/util/duration.js';

export default function command() {
  return newCommand(
    'queue:paused',
    'List paused queues: since when and who paused them',
    'run queue:paused --json',
  )
    .option('--json', 'print an array of { queue, paused_at, paused_by }')
    .addHelpText(
      'after',
      '\nPauses hold for the workers of every connection until run queue:resume. By is the user@host that ran\nqueue:pause (empty for a queue paused before jobsmith stored it).\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const paused = await pausedQueueList((await app.db()).knex);
        if (opts.json) {
          return printJson(
            paused.map((p) => ({
              queue: p.queue,
              paused_at: new Date(p.pausedAt).toISOString(),
              paused_by: p.pausedBy,
            })),
          );
        }
        if (paused.length === 0) return say('No queue is paused.');
        const now = Date.now();
        await printTable(
          ['Queue', 'Paused at', 'For', 'By'],
          paused.map((p) => [
            p.queue,
            new Date(p.pausedAt).toISOString(),
            formatDuration(Math.max(0, now - p.pausedAt)),
            p.pausedBy ?? '',
          ]),
        );
      }),
    );
}
