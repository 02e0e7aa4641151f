import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { sinceFlag } from '../src/failed/flags.js';
import { historyJson, outcomeCell, runtimeCell } from '../src/history/present.js';
import { FINAL_STATUSES } from '../src/history/retention.js';
import { countHistory, listHistory, type HistoryFilter } from '../src/history/store.js';
import { tagFlag } from '../src/history/flags.js';
import { choiceFlag, nameFlag, queueFlag } from '../src/queue/names.js';

const AFTER_HELP = `
Finished jobs are kept as their retention says (retain: { succeeded, failed, cancelled } on the
queue or the job; by default successes are not kept, failures and cancels for 7 days).
Exit codes: 0 listed (even none); 1 the storage failed; 2 a bad flag.
`;

export default function command() {
  return newCommand(
    'queue:history',
    'List finished jobs, newest first (filters: queue, name, status, since, tag)',
    'run queue:history --queue mail --status failed --since 2h --json',
  )
    .option('--queue <queue>', 'only this queue', queueFlag('--queue'))
    .option('--name <job>', 'only jobs of this name', nameFlag('--name'))
    .option(
      '--status <status>',
      `only jobs that ended so: ${FINAL_STATUSES.join(', ')}`,
      choiceFlag('--status', FINAL_STATUSES),
    )
    .option(
      '--since <when>',
      'only jobs finished since an ISO date/time, or within the last duration (2h)',
      sinceFlag('--since'),
    )
    .option('--tag <tag>', 'only jobs dispatched with this tag', tagFlag('--tag'))
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--json', 'print an array of finished jobs (with payload, result and error)')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { knex } = await app.db();
        const filter: HistoryFilter = {
          queue: opts.queue,
          name: opts.name,
          status: opts.status,
          since: opts.since,
          tag: opts.tag,
        };
        const rows = await listHistory(knex, filter, opts.limit);
        if (opts.json) return printJson(rows.map(historyJson));
        if (rows.length === 0) return say('No finished jobs in history.');
        await printTable(
          ['ID', 'Finished at', 'Queue', 'Name', 'Status', 'Attempts', 'Runtime', 'Result / error'],
          rows.map((r) => [
            r.id,
            r.finishedAt,
            r.queue,
            r.name,
            r.status,
            r.attempts,
            runtimeCell(r),
            outcomeCell(r),
          ]),
        );
        const total = await countHistory(knex, filter);
        if (total > rows.length)
          say(paint.dim(`${total - rows.length} more; narrow with --since, or raise --limit`));
      }),
    );
}
