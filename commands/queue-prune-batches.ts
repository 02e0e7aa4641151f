import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { hoursFlag } from '../src/failed/flags.js';
import { pruneBatches } from '../src/workflows/batches/cli-prune.js';

const AFTER_HELP = `
As Laravel's queue:prune-batches: --hours prunes finished batches that finished more than N
hours ago (24 by default); --unfinished N also prunes batches not finished and created more than
N hours ago; --cancelled N also prunes cancelled batches created more than N hours ago. A
batch's per-job outcomes go with it. Jobs of a pruned batch still queued run as plain jobs: no
counts, no callbacks. Never asks: made for cron.
Exit codes: 0 pruned (even none); 1 the storage failed; 2 a bad flag.
`;

export default function command() {
  return newCommand(
    'queue:prune-batches',
    'Delete job batches finished some hours ago (--unfinished, --cancelled: those too)',
    'run queue:prune-batches --hours 48 --unfinished 72',
  )
    .option(
      '--hours <n>',
      'prune batches finished more than this many hours ago',
      hoursFlag('--hours'),
      24,
    )
    .option(
      '--unfinished <n>',
      'also prune unfinished batches created more than this many hours ago',
      hoursFlag('--unfinished'),
    )
    .option(
      '--cancelled <n>',
      'also prune cancelled batches created more than this many hours ago',
      hoursFlag('--cancelled'),
    )
    .option('--json', 'print { finished, unfinished, cancelled }: the batches deleted')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { knex } = await app.db();
        const now = Date.now();
        const before = (hours: number | undefined) =>
          hours === undefined ? undefined : Math.round(now - hours * 3_600_000);
        const done = await pruneBatches(knex, {
          finishedBefore: before(opts.hours)!,
          unfinishedBefore: before(opts.unfinished),
          cancelledBefore: before(opts.cancelled),
        });
        if (opts.json) return printJson(done);
        const n = (count: number, what: string, hours: number) =>
          `${count} ${what} batch${count === 1 ? '' : 'es'} older than ${hours} hour${hours === 1 ? '' : 's'}`;
        const parts = [n(done.finished, 'finished', opts.hours)];
        if (opts.unfinished !== undefined)
          parts.push(n(done.unfinished, 'unfinished', opts.unfinished));
        if (opts.cancelled !== undefined)
          parts.push(n(done.cancelled, 'cancelled', opts.cancelled));
        say(`Pruned ${parts.join(', ')}.`);
      }),
    );
}
