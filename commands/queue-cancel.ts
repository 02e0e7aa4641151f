import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { cancelAndRecord, cancelOutcomeJson } from '../src/cancel/cancel-and-record.js';
import { cancelReason, type CancelOutcome, type CancelTarget } from '../src/cancel/cancel-jobs.js';
import { retentionTable } from '../src/history/attach.js';
import { printable } from '../src/logging/printable.js';
import { connectionFlag, nameFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:cancel',
    'Cancel waiting or running jobs (ids, or every job of a name in a queue)',
    'run queue:cancel 42 43',
  )
    .argument('[id...]', 'ids of jobs (run queue:list to see them)')
    .option(
      '--queue <queue>',
      'with --name: every job of that name in this queue',
      queueFlag('--queue'),
    )
    .option('--name <job>', 'with --queue: the job name', nameFlag('--name'))
    .option('--tag <tag>', 'every live job with this tag (in --queue only, when given)')
    .option('--reason <text>', 'why, shown to the running job with who asked')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print each job with what happened to it')
    .addHelpText(
      'after',
      `
A waiting job (pending or delayed) is deleted at once. A running job's ctx.signal aborts with a
JobCancelledError within about a second, wherever its worker runs; when its handler returns (or
throws) it ends cancelled: deleted, not failed, not retried.

Exit codes: 0 every job named was cancelled or asked to stop (or --queue/--name or --tag matched none);
1 some id named no waiting or running job (the others were still cancelled); 2 bad arguments.
`,
    )
    .action(async (ids: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const target = targetOf(ids, opts);
        const driver = await app.queues().get(opts.connection);
        const reason = cancelReason(opts.reason);
        const outcomes = await cancelAndRecord(
          {
            driver,
            knex: async () => (await app.db()).knex,
            retention: async () =>
              retentionTable(await app.registry(), (await app.config()).config.queues),
          },
          target,
          reason,
        );
        if (opts.json) printJson(outcomes.map(cancelOutcomeJson));
        else if (outcomes.length === 0 && 'name' in target)
          say(`No waiting or running ${target.name} job in queue ${target.queue}.`);
        else if (outcomes.length === 0 && 'tag' in target)
          say(`No waiting or running job carries the tag ${printable(target.tag)}.`);
        else for (const o of outcomes) say(line(o));
        if (outcomes.some((o) => o.outcome === 'not_found')) process.exitCode = 1;
      }),
    );
}

/** Ids, or --queue with --name: exactly one of them. */
function targetOf(
  ids: string[],
  opts: { queue?: string; name?: string; tag?: string },
): CancelTarget {
  if (opts.tag !== undefined) {
    if (ids.length > 0 || opts.name !== undefined)
      throw new UsageError('Give --tag alone (or with --queue), not with ids or --name.');
    if (opts.tag.trim() === '') throw new UsageError('--tag needs a tag, e.g. --tag post:42.');
    return opts.queue === undefined ? { tag: opts.tag } : { tag: opts.tag, queue: opts.queue };
  }
  const filtered = opts.queue !== undefined || opts.name !== undefined;
  if (ids.length > 0 && filtered) {
    throw new UsageError('Give job ids or --queue with --name, not both.');
  }
  if (ids.length === 0 && !filtered) {
    throw new UsageError(
      'Say which jobs to cancel: give their ids, --tag T (with --queue Q to look in one queue), or --queue Q --name N.',
      {
        hint: 'Example: run queue:cancel 42 43, run queue:cancel --tag post:42, or run queue:cancel --queue mail --name mail.send',
      },
    );
  }
  if (filtered) {
    if (opts.queue === undefined)
      throw new UsageError('--name needs --queue: the queue to look in.');
    if (opts.name === undefined)
      throw new UsageError('--queue needs --name: the job name to cancel.');
    return { queue: opts.queue, name: opts.name };
  }
  for (const id of ids) {
    if (id.trim() === '' || id.length > 200)
      throw new UsageError(`"${id}" is not a job id: give the ids run queue:list shows.`);
  }
  return { ids };
}

function line(o: CancelOutcome): string {
  switch (o.outcome) {
    case 'cancelled':
      return `${paint.yellow('Cancelled')}         #${o.id} ${o.job.name} (queue ${o.job.queue}, was ${o.job.state})`;
    case 'cancel_requested':
      return `${paint.yellow('Cancel requested')}  #${o.id} (running): its worker aborts its ctx.signal within a second; a handler that watches it stops`;
    case 'not_found':
      return `${paint.red('Not found')}         #${printable(o.id)}: no waiting or running job has this id`;
  }
}
