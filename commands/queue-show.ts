import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import type { FinishedJob } from '../src/history/find-finished.js';
import { showPayload } from '../src/jobs/encryption/display.js';
import { redact } from '../src/logging/redact.js';
import { statusOf } from '../src/queue/admin/present.js';
import { showJob, shownJobJson } from '../src/queue/admin/show.js';
import type { JobRow } from '../src/queue/driver.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand('queue:show', 'Show one job, whatever its state', 'run queue:show 42 --json')
    .argument('<id>', 'the job id (as dispatch and queue:list print it)')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print the job as JSON')
    .addHelpText(
      'after',
      '\nA live job (queued or in_progress) comes from its queue; a finished one from the job\n' +
        'history while it is kept. Exit 1 when no job has the id.\n',
    )
    .action(async (id: string, opts) =>
      withApp(globals(opts), async (app) => {
        const driver = await app.queues().get(opts.connection);
        const job = await showJob(driver, (await app.db()).knex, id);
        if (job && opts.json) return printJson(shownJobJson(job));
        if (job) return 'live' in job ? showLive(job.live) : showFinished(job.finished);
        throw new JobsmithError(`No job with id "${id}" on the ${driver.connection} connection.`, {
          hint: 'Run `run queue:list QUEUE` to see live jobs; a finished job shows while its history is kept (docs/lifecycle.md).',
        });
      }),
    );
}

function showLive(r: JobRow): void {
  const lines: Array<[string, string]> = [
    ['Status', `${statusOf(r.state)} (${r.state})`],
    ['Attempts', `${r.attempts}/${r.maxTries}`],
    ['Priority', String(r.priority)],
    ['Dispatched', new Date(r.createdAt).toISOString()],
    [r.state === 'reserved' ? 'Lease ends' : 'Runs from', new Date(r.availableAt).toISOString()],
    ['Tags', r.tags.length > 0 ? r.tags.join(', ') : '-'],
    ['Progress', r.progress === null ? '-' : JSON.stringify(r.progress)],
    ['Last error', r.lastError === null ? '-' : redact(r.lastError)],
    ['Payload', showPayload(r.payload)],
  ];
  say(`${paint.bold(`Job ${r.id}`)}  ${r.name} on queue ${r.queue}`);
  for (const [label, value] of lines) say(`${label.padEnd(11)} ${value}`);
}

function showFinished(job: FinishedJob): void {
  const lines: Array<[string, string]> = [
    ['Status', job.source === 'history' ? job.status : `${job.status} (from failed_jobs)`],
    ['Attempts', String(job.attempts)],
    ['Finished', job.finishedAt],
    ['Runtime', job.runtimeMs === null ? '-' : `${job.runtimeMs} ms`],
    ['Tags', job.tags.length > 0 ? job.tags.join(', ') : '-'],
    ['Progress', job.progress === null ? '-' : JSON.stringify(job.progress)],
    ['Error', job.error === null ? '-' : redact(job.error)],
    ['Result', job.result === null ? '-' : JSON.stringify(job.result)],
    ['Payload', showPayload(job.payload)],
  ];
  say(`${paint.bold(`Job ${job.id}`)}  ${job.name} on queue ${job.queue}`);
  for (const [label, value] of lines) say(`${label.padEnd(11)} ${value}`);
  say('Timeline');
  for (const step of job.timeline) {
    if (step.event === 'dispatched') say(`  ${step.at}  dispatched`);
    else
      say(
        // Attempt 0: it ended before any attempt started (cancelled while it waited).
        (step.attempt === 0
          ? `  ${step.endedAt}  ${step.outcome} before it ran`
          : `  ${step.startedAt ?? '?'} → ${step.endedAt}  attempt ${step.attempt}: ${step.outcome}`) +
          (step.error === null ? '' : ` (${redact(step.error)})`),
      );
  }
}
