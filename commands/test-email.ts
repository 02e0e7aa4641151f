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
  TestEmailFailed,
  type TestOutcome,
} from '../src/mail/test-email.js';
import { redact } from '../src/logging/redact.js';

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

/** The sent messages' lines; the others are in the error (stderr), one line each. */
function printSent(outcomes: TestOutcome[]): void {
  for (const o of outcomes)
    if (o.status === 'sent')
      say(
        `Sent the ${o.kind} message to ${o.to}${o.jobId ? ` (mail.send #${o.jobId})` : ''}: ${o.response || 'no reply text'}`,
      );
}

/** The outcome of `send`, printed, or with --json `{ ok: true, messages }`. */
async function report(json: boolean, how: string, send: () => Promise<TestOutcome[]>) {
  let outcomes: TestOutcome[];
  try {
    outcomes = await send();
  } catch (error) {
    // The messages that went out are on stdout; the others are the error's lines.
    if (!json && error instanceof TestEmailFailed) printSent(error.outcomes);
    throw error;
  }
  if (json) return printJson({ ok: true, messages: outcomes });
  printSent(outcomes);
  say(`OK: the SMTP server took ${outcomes.length} message(s) ${how}.`);
}

/**
 * With --json, any failure is also `{ ok: false, error, messages }` on stdout (every message's
 * outcome when sending failed, else none), so a script reads JSON either way; the error still
 * goes to stderr with its exit code.
 */
async function failureAsJson(json: boolean, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (json)
      printJson({
        ok: false,
        error: redact(error instanceof Error ? error.message : String(error)),
        messages: error instanceof TestEmailFailed ? error.outcomes : [],
      });
    throw error;
  }
}

export default function command() {
  return (
    newCommand(
      'test:email',
      'Send two test emails (password reset, account activation) through the mail queue and wait for them',
      'run test:email --email=you@example.com',
    )
      .option('--email <address>', 'where to send them (asked on a terminal when left out)')
      // Flags that mean nothing together are refused (exit 2), not silently half-obeyed.
      .addOption(
        new Option('--now', 'send directly, without the queue').conflicts([
          'wait',
          'queue',
          'timeout',
        ]),
      )
      .option('--dry-run', 'only connect to the SMTP server and log in; send nothing')
      .addOption(
        new Option(
          '--no-wait',
          'queue the messages and return without waiting for a worker',
        ).conflicts('timeout'),
      )
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
        failureAsJson(opts.json === true, () =>
          withApp(globals(opts), async (app) => {
            // Before the address: a host without mail set up is told so, not asked anything.
            const settings = mailSettings(app.env);
            if (opts.dryRun) {
              if (opts.now) throw new UsageError('--dry-run sends nothing; leave out --now.');
              const { server, login } = await verifyServer(settings);
              if (opts.json) return printJson({ ok: true, server, login });
              if (login === 'offered, none set')
                // A warning, not a failure: relays that offer AUTH to all (MailHog, Postfix with
                // mynetworks) take mail without it. docs/mail.md, "run test:email".
                return say(
                  `Warning: connected to ${server}; it offers a login (AUTH), and none is set. If it requires one, it refuses the messages (530 authentication required): set ${settings.source === 'MAIL_URL' ? 'the user and password in MAIL_URL' : 'MAIL_USERNAME and MAIL_PASSWORD'}. Nothing was sent.`,
                );
              return say(
                `OK: connected to ${server} and ${login === 'logged in' ? `logged in as ${settings.username}` : 'it asked for no login'}; nothing was sent.`,
              );
            }
            const messages = testMessages(await recipient(opts.email));
            if (opts.now) return report(opts.json, 'directly', () => sendNow(settings, messages));
            const queued = await queueMessages(app, messages, opts.queue);
            if (!opts.wait) {
              if (opts.json) return printJson(queued);
              for (const j of queued.jobs)
                say(
                  `Queued the ${j.kind} message as mail.send #${j.jobId} on queue ${queued.queue}.`,
                );
              return say(`A worker sends them (run queue:work --queue ${queued.queue}).`);
            }
            if (!opts.json)
              say(
                `Queued mail.send ${queued.jobs.map((j) => `#${j.jobId}`).join(' and ')} on queue ${queued.queue}; waiting up to ${opts.timeout / 1000}s for a worker...`,
              );
            return report(opts.json, 'through the queue', () =>
              waitForReceipts(app, queued, { timeoutMs: opts.timeout }),
            );
          }),
        ),
      )
  );
}
