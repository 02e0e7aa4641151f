import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, newCommand, Option } from '../src/cli/command.js';
import { interactive } from '../src/cli/confirm.js';
import { printJson, say } from '../src/cli/output.js';
import { JobsmithError, UsageError } from '../src/errors.js';
import { queueUsageProblem } from '../src/jobs/limits.js';
import { mailSettings } from '../src/mail/settings.js';
import {
  queueMessages,
  sendNow,
  testMessages,
  verifyServer,
  waitForReceipts,
  type TestOutcome,
} from '../src/mail/test-email.js';

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** --email, or asked on a terminal; a UsageError elsewhere. */
async function recipient(email: string | undefined): Promise<string> {
  if (email !== undefined) {
    if (!EMAIL.test(email))
      throw new UsageError(`--email must be an address such as you@example.com, got "${email}".`);
    return email;
  }
  if (!interactive())
    throw new UsageError(
      '--email is required when no terminal is attached: the address to send the test to.',
    );
  const { text, isCancel } = await import('@clack/prompts');
  const answer = await text({
    message: 'Send the test email to which address?',
    placeholder: 'you@example.com',
    validate: (v) => (v && EMAIL.test(v) ? undefined : 'An address such as you@example.com'),
  });
  if (isCancel(answer)) throw new JobsmithError('Cancelled; nothing was sent.');
  return answer;
}

function queueFlag(value: string): string {
  const problem = queueUsageProblem(value, '--queue must be a queue name:');
  if (problem) throw new UsageError(problem);
  return value;
}

function print(outcomes: TestOutcome[], how: string): void {
  for (const o of outcomes)
    say(
      `Sent the ${o.kind} message to ${o.to}${o.jobId ? ` (mail.send #${o.jobId})` : ''}: ${o.response || 'no reply text'}`,
    );
  say(`OK: the SMTP server took ${outcomes.length} message(s) ${how}.`);
}

export default function command() {
  return newCommand(
    'test:email',
    'Send two test emails (password reset, account activation) through the mail queue and wait for them',
    'run test:email --email=you@example.com',
  )
    .option('--email <address>', 'where to send them (asked on a terminal when left out)')
    .option('--now', 'send directly, without the queue')
    .option('--dry-run', 'only connect to the SMTP server and log in; send nothing')
    .option('--no-wait', 'queue the messages and return without waiting for a worker')
    .option(
      '--queue <name>',
      "queue for the jobs (default: the config's mail.queue, or mail)",
      queueFlag,
    )
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for a worker to send them')
        .argParser(durationFlag('--timeout'))
        .default(60_000, '60s'),
    )
    .option('--json', 'print the outcome as JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        // Before the address: a host without mail set up is told so, not asked anything.
        const settings = mailSettings(app.env);
        if (opts.dryRun) {
          if (opts.now) throw new UsageError('--dry-run sends nothing; leave out --now.');
          const server = await verifyServer(settings);
          if (opts.json) return printJson({ ok: true, server });
          return say(
            `OK: connected to ${server} and ${settings.username ? `logged in as ${settings.username}` : 'it asked for no login'}; nothing was sent.`,
          );
        }
        const messages = testMessages(await recipient(opts.email));
        if (opts.now) {
          const outcomes = await sendNow(settings, messages);
          if (opts.json) return printJson(outcomes);
          return print(outcomes, 'directly');
        }
        const queued = await queueMessages(app, messages, opts.queue);
        if (!opts.wait) {
          if (opts.json) return printJson(queued);
          for (const j of queued.jobs)
            say(`Queued the ${j.kind} message as mail.send #${j.jobId} on queue ${queued.queue}.`);
          return say(`A worker sends them (run queue:work --queue ${queued.queue}).`);
        }
        if (!opts.json)
          say(
            `Queued mail.send ${queued.jobs.map((j) => `#${j.jobId}`).join(' and ')} on queue ${queued.queue}; waiting up to ${opts.timeout / 1000}s for a worker...`,
          );
        const outcomes = await waitForReceipts(app, queued, { timeoutMs: opts.timeout });
        if (opts.json) return printJson(outcomes);
        print(outcomes, 'through the queue');
      }),
    );
}
