import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { confirmDestructive } from '../src/cli/confirm.js';
import { printJson, say } from '../src/cli/output.js';
import { pruneHistory } from '../src/history/prune.js';
import { FINAL_STATUSES } from '../src/history/retention.js';
import { UsageError } from '../src/errors.js';
import { choiceFlag } from '../src/queue/names.js';

const AFTER_HELP = `
Without flags it deletes the rows whose retention has run out (workers do the same, at most
1000 rows a minute), and never asks: made for cron. --all deletes every row, expired or not,
and asks on a terminal (--force elsewhere).
Exit codes: 0 pruned (even none); 1 the storage failed; 2 a bad flag, or --all without --force
where no terminal can answer.
`;

export default function command() {
  return newCommand(
    'queue:prune-history',
    'Delete finished jobs whose retention has run out (or all with --all)',
    'run queue:prune-history',
  )
    .option('--all', 'delete every history row, expired or not')
    .option(
      '--status <status>',
      `only jobs that ended so: ${FINAL_STATUSES.join(', ')}`,
      choiceFlag('--status', FINAL_STATUSES),
    )
    .option('--force', 'with --all: do not ask for confirmation')
    .option('--json', 'print { history, attempts }: the rows deleted')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        if (opts.force && !opts.all)
          throw new UsageError('--force goes with --all: pruning expired rows never asks.', {
            hint: 'Drop --force, or add --all to delete every row.',
          });
        const all = Boolean(opts.all);
        if (all) {
          const which = opts.status ? `every ${opts.status} job` : 'every finished job';
          await confirmDestructive(`Delete ${which} from the history?`, opts.force);
        }
        const { knex } = await app.db();
        const done = await pruneHistory(knex, { all, status: opts.status });
        if (opts.json) return printJson(done);
        const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
        const what = all ? '' : 'expired ';
        const attempts = opts.status ? '' : ` and ${rows(done.attempts)} of attempts`;
        say(`Pruned ${rows(done.history)} of ${what}job history${attempts}.`);
      }),
    );
}
