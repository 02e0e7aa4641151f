import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { confirmDestructive } from '../src/cli/confirm.js';
import { paint, say } from '../src/cli/output.js';
import { rollback } from '../src/db/migrate.js';

export default function command() {
  return newCommand(
    'migrate:rollback',
    'Undo the last migrations (drops their tables)',
    'run migrate:rollback --step 1 --force',
  )
    .option('--step <n>', 'how many migrations to undo', intFlag('--step', { min: 1 }), 1)
    .option('--force', 'do not ask for confirmation')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const db = await app.db({ migrate: false });
        await confirmDestructive(
          `Roll back ${opts.step} migration(s) on ${db.describe}? Their tables and data are dropped.`,
          opts.force,
        );
        const undone = await rollback(db, opts.step);
        if (undone.length === 0) say('Nothing to roll back.');
        for (const name of undone) say(`${paint.yellow('Rolled back')}  ${name}`);
      }),
    );
}
