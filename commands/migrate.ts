import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { migrateLatest } from '../src/db/migrate.js';

export default function command() {
  return newCommand('migrate', 'Apply pending database migrations', 'run migrate').action(
    async (opts) =>
      withApp(globals(opts), async (app) => {
        const db = await app.db({ migrate: false });
        const applied = await migrateLatest(db);
        if (applied.length === 0) say(`Nothing to migrate: ${db.describe} is up to date.`);
        for (const name of applied) say(`${paint.green('Migrated')}  ${name}`);
      }),
  );
}
