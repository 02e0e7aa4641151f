import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { JobsmithError, UsageError } from '../src/errors.js';
import { failedJobArguments, rangeFlag, sinceFlag } from '../src/failed/flags.js';
import { firstLine } from '../src/failed/present.js';
import {
  resolveFailedJobs,
  retryFailedJobs,
  type Kept,
  type Retried,
} from '../src/failed/retry.js';
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
    .option('--json', 'print what was retried and what was kept as JSON')
    .addHelpText(
      'after',
      '\nEach job goes back to the connection and queue it failed on, with its priority, attempts\n' +
        'from zero and the tries of its job definition. Filters need no ids: --queue mail retries\n' +
        'every failed job of mail. A unique job goes back holding its key again; while another\n' +
        'live job holds that key the failed job is kept (never two live jobs of one key): retry\n' +
        'it once that job is done, or forget it. Exit 1 when a failed job was kept, or an id or\n' +
        'uuid given is not found; the others are retried all the same.\n',
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
        const json = Boolean(opts.json);
        // Without --json each job is reported as it goes, and only counted: a retry of a
        // million failed jobs holds none of them.
        const retried: Retried[] = [];
        const kept: Kept[] = [];
        const counts =
          filter.ids?.length === 0
            ? { retried: 0, kept: 0 }
            : await retryFailedJobs(
                {
                  db,
                  store,
                  registry: await app.registry(),
                  driver: (connection) => app.queues().get(connection),
                },
                filter,
                {
                  onRetried: (r) => (json ? retried.push(r) : report(r)),
                  onKept: (k) => (json ? kept.push(k) : reportKept(k)),
                },
              );
        if (json) {
          printJson({ retried: retried.map(retriedJson), kept: kept.map(keptJson), missing });
        } else {
          say(summary(counts.retried, counts.kept));
        }
        failIfIncomplete(counts.kept, missing);
      }),
    );
}

function summary(retried: number, kept: number): string {
  const line = `Retried ${retried} failed job${retried === 1 ? '' : 's'}`;
  return kept === 0 ? `${line}.` : `${line}; kept ${kept}.`;
}

/**
 * Exit 1, as for an id that is not found, when a job could not be retried: the others were, and
 * a script must see that some are still failed.
 */
function failIfIncomplete(kept: number, missing: string[]): void {
  const problems: string[] = [];
  if (kept > 0) {
    problems.push(
      `Kept ${kept} failed job${kept === 1 ? '' : 's'}: ${kept === 1 ? 'its unique key is' : 'their unique keys are'} held by live jobs.`,
    );
  }
  if (missing.length > 0) {
    problems.push(`No failed job with id or uuid ${missing.map((m) => `"${m}"`).join(', ')}.`);
  }
  if (problems.length === 0) return;
  throw new JobsmithError(problems.join(' '), {
    hint:
      missing.length > 0
        ? 'Run `run queue:failed` to see the failed jobs.'
        : 'Retry them once those jobs are done, or forget them with `run queue:forget ID`.',
  });
}

function retriedJson(r: Retried) {
  return {
    id: r.failed.id,
    uuid: r.failed.uuid,
    name: r.failed.name,
    connection: r.failed.connection,
    queue: r.failed.queue,
    job_id: r.jobId ?? null,
    unregistered: r.unregistered,
    error: r.error ? firstLine(r.error.message, 500) : null,
  };
}

function keptJson(k: Kept) {
  return {
    id: k.failed.id,
    uuid: k.failed.uuid,
    name: k.failed.name,
    connection: k.failed.connection,
    queue: k.failed.queue,
    unique_key: k.key,
    held_by: k.heldBy,
  };
}

function reportKept(k: Kept): void {
  const { failed } = k;
  say(
    `${paint.yellow('Kept')}     #${failed.id} ${failed.name} on ${failed.connection}/${failed.queue}: unique key ${JSON.stringify(k.key)} is held by job #${k.heldBy}; retry it once that job is done, or forget it with run queue:forget ${failed.id}`,
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
