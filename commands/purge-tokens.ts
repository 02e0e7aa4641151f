import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, newCommand } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { openTokensDatabase } from '../src/tokens/database.js';
import { DEFAULT_BATCH, MAX_BATCH, purgeExpiredTokens } from '../src/tokens/purge.js';
import { tokenSettings } from '../src/tokens/settings.js';
import { formatDurationInput } from '../src/util/duration.js';

export default function command() {
  return newCommand(
    'purge:tokens',
    "Delete the app's expired refresh tokens, in batches (for cron: never asks)",
    'run purge:tokens --older-than 1d',
  )
    .option(
      '--batch <n>',
      `tokens one DELETE removes at most, 1 to ${MAX_BATCH} (default: ${DEFAULT_BATCH})`,
      intFlag('--batch', { min: 1, max: MAX_BATCH }),
    )
    .option(
      '--older-than <duration>',
      'only tokens that expired more than this long ago (default: 0, every expired token)',
      durationFlag('--older-than', { allowZero: true, stored: true }),
    )
    .option('--dry-run', 'count the tokens that would go; delete nothing')
    .option('--json', 'print JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const settings = tokenSettings((await app.config()).config.tokens);
        const tokens = await openTokensDatabase(settings, {
          env: app.env,
          cwd: app.cwd,
          storage: () => app.db({ migrate: false }),
        });
        try {
          const result = await purgeExpiredTokens(tokens.db, settings, {
            batch: opts.batch,
            olderThanMs: opts.olderThan,
            dryRun: opts.dryRun,
          });
          if (opts.json) return printJson({ ...result, cutoff: result.cutoff.toISOString() });
          const which = `${result.expiresAt} before ${result.cutoff.toISOString()}${
            result.olderThanMs ? `, now minus ${formatDurationInput(result.olderThanMs)}` : ''
          }`;
          const count = (n: number) => `${n} expired token${n === 1 ? '' : 's'}`;
          if (result.dryRun)
            say(
              `Would delete ${count(result.expired)} from ${result.table} (${which}); --dry-run deleted nothing.`,
            );
          else if (result.deleted === 0) say(`No expired tokens in ${result.table} (${which}).`);
          else
            say(
              `Deleted ${count(result.deleted)} from ${result.table} in ${result.batches} batch${result.batches === 1 ? '' : 'es'} (${which}).`,
            );
        } finally {
          await tokens.close();
        }
      }),
    );
}
