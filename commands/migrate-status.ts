import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable } from '../src/cli/output.js';
import { migrationStatus } from '../src/db/migrate.js';

export default function command() {
  return newCommand(
    'migrate:status',
    'List migrations and whether each is applied',
    'run migrate:status --json',
  )
    .option('--json', 'print JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const status = await migrationStatus(await app.db({ migrate: false }));
        if (opts.json) return printJson(status);
        await printTable(
          ['Migration', 'Status'],
          status.map((m) => [m.name, m.applied ? paint.green('applied') : paint.yellow('pending')]),
        );
      }),
    );
}
