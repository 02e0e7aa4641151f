import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { firstLine } from '../src/failed/present.js';
import { UsageError } from '../src/errors.js';
import { TAGS_HELP, tagProblem } from '../src/jobs/tags.js';
import { listTaggedEverywhere } from '../src/queue/admin/list-tagged.js';
import { jobJson, progressCell, statusText } from '../src/queue/admin/present.js';
import type { JobState } from '../src/queue/driver.js';
import { choiceFlag, connectionFlag, queueArguments } from '../src/queue/names.js';

const STATES: readonly JobState[] = ['pending', 'delayed', 'reserved'];

export default function command() {
  return newCommand(
    'queue:list',
    'List the jobs of a queue by state or tag, a page at a time',
    'run queue:list default --state delayed --page 2',
  )
    .argument('[queue]', 'the queue (with --tag it may be left out: every queue)')
    .option(
      '--state <state>',
      `only jobs in this state: ${STATES.join(', ')}`,
      choiceFlag('--state', STATES),
    )
    .option('--tag <tag>', 'only jobs carrying this tag', tagFlag)
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
    .action(async (queue: string | undefined, opts) =>
      withApp(globals(opts), async (app) => {
        if (queue === undefined && opts.tag === undefined) {
          throw new UsageError('Give a queue, or --tag T to list the tagged jobs of every queue.', {
            hint: 'Example: run queue:list default, or run queue:list --tag post:42',
          });
        }
        const name = queue === undefined ? undefined : queueArguments([queue])[0]!;
        const driver = await app.queues().get(opts.connection);
        const perPage: number = opts.perPage;
        const offset = (opts.page - 1) * perPage;
        const filter = opts.tag === undefined ? undefined : { tag: opts.tag as string };
        const rows =
          name === undefined
            ? await listTaggedEverywhere(driver, filter!.tag, opts.state, offset, perPage)
            : await driver.list(name, opts.state, offset, perPage, filter);
        if (opts.json) return printJson(rows.map(jobJson));
        const what = `${opts.state ? `${opts.state} jobs` : 'jobs'}${filter ? ` tagged ${filter.tag}` : ''}`;
        if (rows.length === 0) {
          const where = name === undefined ? 'in any queue' : `in queue ${name}`;
          return say(opts.page > 1 ? `No ${what} on page ${opts.page}.` : `No ${what} ${where}.`);
        }
        await printTable(
          [
            'ID',
            ...(name === undefined ? ['Queue'] : []),
            'Name',
            'Status',
            'Priority',
            'Attempts',
            'Progress',
            'Available at',
            'Last error',
          ],
          rows.map((r) => [
            r.id,
            ...(name === undefined ? [r.queue] : []),
            r.name,
            statusText(r.state),
            r.priority,
            `${r.attempts}/${r.maxTries}`,
            progressCell(r.progress),
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

function tagFlag(value: string): string {
  const problem = tagProblem(value);
  if (problem) throw new UsageError(`--tag: ${problem}; a tag is one of ${TAGS_HELP}.`);
  return value;
}
