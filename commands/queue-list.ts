import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { firstLine } from '../src/failed/present.js';
import { redact } from '../src/logging/redact.js';
import type { JobRow, JobState } from '../src/queue/driver.js';
import { choiceFlag, connectionFlag, queueArguments } from '../src/queue/names.js';

const STATES: readonly JobState[] = ['pending', 'delayed', 'reserved'];

export default function command() {
  return newCommand(
    'queue:list',
    'List the jobs of a queue by state, a page at a time',
    'run queue:list default --state delayed --page 2',
  )
    .argument('<queue>', 'the queue')
    .option(
      '--state <state>',
      `only jobs in this state: ${STATES.join(', ')}`,
      choiceFlag('--state', STATES),
    )
    .option('--page <n>', 'page number, from 1', intFlag('--page', { min: 1 }), 1)
    .option(
      '--per-page <n>',
      'jobs per page (at most 1000)',
      intFlag('--per-page', { min: 1, max: 1000 }),
      50,
    )
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print the jobs as a JSON array')
    .action(async (queue: string, opts) =>
      withApp(globals(opts), async (app) => {
        const [name] = queueArguments([queue]);
        const driver = await app.queues().get(opts.connection);
        const perPage: number = opts.perPage;
        const rows = await driver.list(name!, opts.state, (opts.page - 1) * perPage, perPage);
        if (opts.json) return printJson(rows.map(toJson));
        const what = opts.state ? `${opts.state} jobs` : 'jobs';
        if (rows.length === 0) {
          return say(
            opts.page > 1 ? `No ${what} on page ${opts.page}.` : `No ${what} in queue ${name}.`,
          );
        }
        await printTable(
          ['ID', 'Name', 'State', 'Priority', 'Attempts', 'Available at', 'Last error'],
          rows.map((r) => [
            r.id,
            r.name,
            r.state,
            r.priority,
            `${r.attempts}/${r.maxTries}`,
            new Date(r.availableAt).toISOString(),
            firstLine(r.lastError ?? '', 60),
          ]),
        );
        if (rows.length === perPage) {
          say(paint.dim(`Page ${opts.page}; the next: --page ${opts.page + 1}`));
        }
      }),
    );
}

function toJson(r: JobRow) {
  return {
    id: r.id,
    name: r.name,
    queue: r.queue,
    state: r.state,
    priority: r.priority,
    attempts: r.attempts,
    max_tries: r.maxTries,
    available_at: new Date(r.availableAt).toISOString(),
    created_at: new Date(r.createdAt).toISOString(),
    // Masked when stored, and again here: rows stored before, secrets registered since.
    last_error: r.lastError === null ? null : redact(r.lastError),
    payload: r.payload,
  };
}
