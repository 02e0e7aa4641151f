import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { batchIdFlag, listBatchViews, noSuchBatch } from '../src/workflows/batches/cli-read.js';
import { findBatch } from '../src/workflows/batches/store.js';
import { batchJson, LIST_HEAD, listRow } from '../src/workflows/batches/cli-present.js';

export default function command() {
  return newCommand(
    'batch:list',
    'List job batches, newest first, with their progress and counts',
    'run batch:list --limit 20 --json',
  )
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--after <id>', 'start after this batch id (the next page)', batchIdFlag('--after'))
    .option('--json', 'print an array of batches')
    .addHelpText(
      'after',
      '\nStatus is running, finished (every job has its final outcome) or cancelled; progress is\n' +
        'the share of jobs with a final outcome, failed ones included. Exit codes: 0 listed (even\n' +
        'none); 1 the storage failed, or --after names no batch; 2 a bad flag.\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { knex } = await app.db();
        // A mistyped --after would read as the end of the list: say it names no batch.
        if (opts.after !== undefined && !(await findBatch(knex, opts.after)))
          throw noSuchBatch(opts.after);
        const batches = await listBatchViews(knex, { limit: opts.limit + 1, after: opts.after });
        const page = batches.slice(0, opts.limit);
        if (opts.json) return printJson(page.map(batchJson));
        if (page.length === 0) return say(opts.after ? 'No more batches.' : 'No batches.');
        await printTable(LIST_HEAD, page.map(listRow));
        if (batches.length > opts.limit)
          say(paint.dim(`More; the next page: --after ${page[page.length - 1]!.id}`));
      }),
    );
}
