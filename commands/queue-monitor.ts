import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { connectionFlag, queueArguments } from '../src/queue/names.js';
import { queueHealth } from '../src/queue/sizes.js';

export default function command() {
  return newCommand(
    'queue:monitor',
    'Check queue sizes against a threshold; exit 1 when one is over',
    'run queue:monitor default mail --max 100',
  )
    .argument('<queues...>', 'queues to check')
    .requiredOption(
      '--max <n>',
      'most waiting (pending + delayed) jobs a queue may hold',
      intFlag('--max', { min: 0 }),
    )
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print an array of { queue, size, max, status }')
    .action(async (queues: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const names = queueArguments(queues);
        const health = await queueHealth(await app.queues().get(opts.connection), names, opts.max);
        if (opts.json) printJson(health);
        else {
          await printTable(
            ['Queue', 'Size', 'Status'],
            health.map((h) => [
              h.queue,
              h.size,
              h.status === 'OK' ? paint.green(h.status) : paint.red(h.status),
            ]),
          );
        }
        const over = health.filter((h) => h.status === 'ALERT');
        if (over.length > 0) {
          throw new JobsmithError(
            `Over --max ${opts.max}: ${over.map((h) => `${h.queue} (${h.size} waiting)`).join(', ')}.`,
          );
        }
      }),
    );
}
