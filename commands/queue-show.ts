import { withApp, type App } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { sourcedPolicy, type PolicyValue } from '../src/config/queue-policies.js';
import { JobsmithError } from '../src/errors.js';
import type { FinishedJob } from '../src/history/find-finished.js';
import { showPayload } from '../src/jobs/encryption/display.js';
import { redact } from '../src/logging/redact.js';
import { statusText } from '../src/queue/admin/present.js';
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
        if (job && 'live' in job) return showLive(job.live, await policyTries(app, job.live.queue));
        if (job) return showFinished(job.finished);
        throw new JobsmithError(`No job with id "${id}" on the ${driver.connection} connection.`, {
          hint: 'Run `run queue:list QUEUE` to see live jobs; a finished job shows while its history is kept (docs/lifecycle.md).',
        });
      }),
    );
}

/**
 * The tries its queue's policy gives a job (QUEUE_<NAME>_TRIES, else the config's
 * `queues.<name>.tries`), which a worker applies over those stored at dispatch (executor.ts
 * triesOf); undefined when neither sets any. A worker's own --tries is not known here. A config
 * that does not load leaves the environment's.
 */
async function policyTries(app: App, queue: string): Promise<PolicyValue<number> | undefined> {
  let settings;
  try {
    settings = (await app.config()).config.queues?.[queue];
  } catch {
    settings = undefined;
  }
  return sourcedPolicy(queue, settings, app.rawEnv).tries;
}

function showLive(r: JobRow, tries: PolicyValue<number> | undefined): void {
  const attempts =
    tries && tries.value !== r.maxTries
      ? `${r.attempts}/${tries.value} (${tries.from}; dispatched with ${r.maxTries})`
      : `${r.attempts}/${r.maxTries}`;
  const lines: Array<[string, string]> = [
    ['Status', statusText(r.state)],
    ['Attempts', attempts],
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
