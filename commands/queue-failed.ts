import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { sinceFlag } from '../src/failed/flags.js';
import { failedJobJson, firstLine } from '../src/failed/present.js';
import { DatabaseFailedJobStore, type FailedFilter } from '../src/failed/store.js';
import { nameFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:failed',
    'List failed jobs, oldest first (filters: queue, name, since)',
    'run queue:failed --queue mail --since 2h --json',
  )
    .option('--queue <queue>', 'only this queue', queueFlag('--queue'))
    .option('--name <job>', 'only jobs of this name', nameFlag('--name'))
    .option(
      '--since <when>',
      'only failures since an ISO date/time, or within the last duration (2h)',
      sinceFlag('--since'),
    )
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--after <id>', 'start after this failed job id (the next page)', intFlag('--after'), 0)
    .option('--json', 'print an array of failed jobs (with exception and payload)')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const store = new DatabaseFailedJobStore((await app.db()).knex);
        const filter: FailedFilter = { queue: opts.queue, name: opts.name, since: opts.since };
        const rows = await store.page(filter, opts.after, opts.limit);
        if (opts.json) return printJson(rows.map(failedJobJson));
        if (rows.length === 0) return say('No failed jobs.');
        await printTable(
          ['ID', 'Failed at', 'Connection', 'Queue', 'Name', 'Attempts', 'Reason', 'Exception'],
          rows.map((r) => [
            r.id,
            r.failedAt,
            r.connection,
            r.queue,
            r.name,
            r.attempts,
            // Why it ended: its own error, a payload or name no worker can run (poison), tries
            // spent while it kept losing its worker (max_attempts), or a timeout.
            r.reason,
            firstLine(r.exception, 80),
          ]),
        );
        const last = rows[rows.length - 1]!.id;
        const more = await store.count({ ...filter, range: [last + 1, Number.MAX_SAFE_INTEGER] });
        if (more > 0) say(paint.dim(`${more} more; the next page: --after ${last}`));
      }),
    );
}
