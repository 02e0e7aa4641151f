import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { JobsmithError, UsageError } from '../src/errors.js';
import { failedJobArguments, rangeFlag, sinceFlag } from '../src/failed/flags.js';
import { firstLine } from '../src/failed/present.js';
import { resolveFailedJobs, retryFailedJobs, type Retried } from '../src/failed/retry.js';
import { DatabaseFailedJobStore, type FailedFilter } from '../src/failed/store.js';
import { nameFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:retry',
    'Push failed jobs back onto their queues (ids, uuids, or all with filters)',
    'run queue:retry all --queue mail --since 2h',
  )
    .argument('[ids...]', 'failed job ids or uuids, or `all`')
    .option('--queue <queue>', 'only failed jobs of this queue', queueFlag('--queue'))
    .option('--name <job>', 'only failed jobs of this name', nameFlag('--name'))
    .option(
      '--range <from-to>',
      'only failed job ids in this range, e.g. 1-5',
      rangeFlag('--range'),
    )
    .option(
      '--since <when>',
      'only failures since an ISO date/time, or within the last duration (2h)',
      sinceFlag('--since'),
    )
    .addHelpText(
      'after',
      '\nEach job goes back to the connection and queue it failed on, with its priority, attempts\n' +
        'from zero and the tries of its job definition. Filters need no ids: --queue mail retries\n' +
        'every failed job of mail. Exit 1 when an id or uuid given is not found.\n',
    )
    .action(async (args: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const filter: FailedFilter = {
          queue: opts.queue,
          name: opts.name,
          range: opts.range,
          since: opts.since,
        };
        const filtered = Object.values(filter).some((v) => v !== undefined);
        const all = args.includes('all');
        if (all && args.length > 1) {
          throw new UsageError('`all` stands alone: give failed job ids or uuids, or `all`.');
        }
        const refs = all ? [] : failedJobArguments(args);
        if (refs.length > 0 && filtered) {
          throw new UsageError(
            'Give failed job ids, or `all` and filters (--queue --name --range --since), not both.',
          );
        }
        if (!all && refs.length === 0 && !filtered) {
          throw new UsageError('Say which failed jobs to retry: ids or uuids, or `all`.', {
            hint: 'Run `run queue:failed` to see them; `run queue:retry all` retries every one.',
          });
        }

        const db = await app.db();
        const store = new DatabaseFailedJobStore(db.knex);
        let missing: string[] = [];
        if (refs.length > 0) {
          const resolved = await resolveFailedJobs(store, refs);
          missing = resolved.missing;
          filter.ids = resolved.ids;
        }
        const retried =
          filter.ids?.length === 0
            ? 0
            : await retryFailedJobs(
                {
                  db,
                  store,
                  registry: await app.registry(),
                  driver: (connection) => app.queues().get(connection),
                },
                filter,
                { onRetried: report },
              );
        say(`Retried ${retried} failed job${retried === 1 ? '' : 's'}.`);
        if (missing.length > 0) {
          throw new JobsmithError(
            `No failed job with id or uuid ${missing.map((m) => `"${m}"`).join(', ')}.`,
            { hint: 'Run `run queue:failed` to see the failed jobs.' },
          );
        }
      }),
    );
}

function report(r: Retried): void {
  const { failed } = r;
  const target = r.jobId ? ` → job #${r.jobId}` : '';
  say(
    `${paint.green('Retried')}  #${failed.id} ${failed.name} on ${failed.connection}/${failed.queue}${target}`,
  );
  if (r.unregistered) {
    warn(
      paint.yellow(
        `${failed.name} is not registered in the config: it will fail again until it is.`,
      ),
    );
  }
  if (r.error)
    warn(paint.red(`It ran at once and failed again: ${firstLine(r.error.message, 120)}`));
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}
