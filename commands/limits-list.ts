import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { printJson, printTable, say } from '../src/cli/output.js';
import { limitsReport, limitsRows } from '../src/flow/rate-limits/report.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'limits:list',
    'Show each rate limit, its busiest keys and when they free up',
    'run limits:list --json',
  )
    .option(
      '--connection <name>',
      'queue connection whose storage holds the limits (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option(
      '--top <n>',
      'busiest keys shown per limit (at most 1000)',
      intFlag('--top', { min: 1, max: 1000 }),
      10,
    )
    .option(
      '--json',
      'print an array of { name, limit, perMs, per, burst, blockedUntil, keys: [{ key, freeAt, freeInMs, queuedUntil, queuedForMs }] }',
    )
    .addHelpText(
      'after',
      '\nFree: when the key lets a job through again. Queued: until when jobs it turned away have been given slots.\nA key that is not listed has room now, unless the whole limit is pushed back.\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { rateLimits } = await app.config();
        if (rateLimits.size === 0) {
          if (opts.json) return printJson([]);
          return say(
            'No rate limits in the config; declare them with defineConfig({ rateLimits }).',
          );
        }
        const driver = await app.queues().get(opts.connection);
        const reports = await limitsReport(driver.flow().rateLimits, rateLimits, opts.top);
        if (opts.json) return printJson(reports);
        await printTable(
          ['Limit', 'Rule', 'Pushed back', 'Key', 'Free', 'Queued'],
          limitsRows(reports),
        );
      }),
    );
}
