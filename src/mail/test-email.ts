/*
 * `run test:email`: two notifications as apps send them (a password reset and an account
 * activation), sent through the queue (and waited for), at once (--now), or not at all, only a
 * login (--dry-run). The command parses flags and prints; this module does the work and throws
 * JobsmithError with the reason when sending fails.
 */
import { randomUUID } from 'node:crypto';
import type { App } from '../cli/app.js';
import { JobsmithError } from '../errors.js';
import type { JobDefinition } from '../jobs/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyMailError } from './errors.js';
import type { MailPayload, SentMail } from './payload.js';
import { deleteReceipts, failedJobsAmong, readReceipts, type Receipt } from './receipts-store.js';
import { MAIL_JOB } from './send-job.js';
import { describeServer, mailSettings, type MailSettings } from './settings.js';
import { deliver, singleTransport } from './transport.js';

/** One test message's outcome, as the command prints it. */
export interface TestOutcome {
  kind: string;
  to: string;
  jobId?: string;
  messageId: string;
  /** The SMTP server's answer, e.g. `250 2.0.0 Ok: queued as 4F1A2`. */
  response: string;
}

/** The two test notifications to `email`, from MAIL_FROM. */
export function testMessages(
  email: string,
  at = new Date(),
): Array<{ kind: string; payload: MailPayload }> {
  const stamp = at.toISOString();
  const token = randomUUID().replace(/-/g, '');
  const note = `This is a test from jobsmith (run test:email) at ${stamp}; the link goes nowhere.`;
  return [
    {
      kind: 'password reset',
      payload: {
        to: email,
        subject: 'Reset your password (jobsmith test)',
        text: `Someone asked to reset the password of ${email}.\n\nReset it: https://example.com/password/reset/${token}\n\nIf it was not you, ignore this message.\n\n${note}\n`,
        html: `<p>Someone asked to reset the password of ${escapeHtml(email)}.</p><p><a href="https://example.com/password/reset/${token}">Reset your password</a></p><p>If it was not you, ignore this message.</p><p><small>${note}</small></p>`,
      },
    },
    {
      kind: 'account activation',
      payload: {
        to: email,
        subject: 'Activate your account (jobsmith test)',
        text: `Welcome! Activate the account of ${email}:\n\nhttps://example.com/activate/${token}\n\n${note}\n`,
        html: `<p>Welcome! Activate the account of ${escapeHtml(email)}.</p><p><a href="https://example.com/activate/${token}">Activate your account</a></p><p><small>${note}</small></p>`,
      },
    },
  ];
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`,
  );
}

/** The sender the test messages need: MAIL_FROM, else a JobsmithError naming it. */
function requireFrom(settings: MailSettings): void {
  if (settings.from === undefined)
    throw new JobsmithError('MAIL_FROM is not set: the test messages need a sender.', {
      hint: 'Set MAIL_FROM to an address the server lets you send from, e.g. MAIL_FROM="App <app@example.com>".',
    });
}

/** Connects and logs in, nothing more. Resolves with the server's description. */
export async function verifyServer(settings: MailSettings): Promise<string> {
  const transport = await singleTransport(settings);
  try {
    await transport.verify();
  } catch (error) {
    throw new JobsmithError(classifyMailError(error, settings).description, { cause: error });
  } finally {
    transport.close();
  }
  return describeServer(settings);
}

/** Sends the messages directly, in order, on one connection; the first failure throws. */
export async function sendNow(
  settings: MailSettings,
  messages: Array<{ kind: string; payload: MailPayload }>,
): Promise<TestOutcome[]> {
  requireFrom(settings);
  const transport = await singleTransport(settings);
  const outcomes: TestOutcome[] = [];
  try {
    for (const { kind, payload } of messages) {
      let sent: SentMail;
      try {
        sent = await deliver(transport, settings, payload);
      } catch (error) {
        throw new JobsmithError(
          `The ${kind} message was not sent: ${classifyMailError(error, settings).description}`,
          { cause: error },
        );
      }
      outcomes.push({
        kind,
        to: String(payload.to),
        messageId: sent.messageId,
        response: sent.response,
      });
    }
  } finally {
    transport.close();
  }
  return outcomes;
}

export interface QueuedTest {
  kind: string;
  to: string;
  jobId: string;
  receipt: string;
}

/** Queues the messages as `mail.send` jobs, each with a receipt to wait for. */
export async function queueMessages(
  app: App,
  messages: Array<{ kind: string; payload: MailPayload }>,
  queue: string | undefined,
): Promise<{ queue: string; jobs: QueuedTest[] }> {
  requireFrom(mailSettings(app.env));
  const job = (await app.registry()).get(MAIL_JOB) as JobDefinition<MailPayload> | undefined;
  // mailSettings passed, so the registry has mail.send (MAIL_URL or MAIL_HOST is set).
  if (!job) throw new JobsmithError('mail.send is not registered.');
  const target = queue ?? job.queue;
  const jobs: QueuedTest[] = [];
  for (const { kind, payload } of messages) {
    const receipt = randomUUID();
    const { id } = await app.dispatcher().dispatch(job, { ...payload, receipt }, { queue: target });
    jobs.push({ kind, to: String(payload.to), jobId: id, receipt });
  }
  return { queue: target, jobs };
}

/**
 * Waits until every queued message has a receipt, polling every `intervalMs`, for at most
 * `timeoutMs`. Resolves with the outcomes once all were sent; throws JobsmithError with the
 * reason on the first failed attempt, or when no worker sent them in time.
 */
export async function waitForReceipts(
  app: App,
  queued: { queue: string; jobs: QueuedTest[] },
  options: { timeoutMs: number; intervalMs?: number },
): Promise<TestOutcome[]> {
  const db = await app.db();
  const keys = queued.jobs.map((j) => j.receipt);
  const started = Date.now() - 1_000;
  const deadline = Date.now() + options.timeoutMs;
  const byKey = new Map<string, Receipt>();
  try {
    for (;;) {
      for (const r of await readReceipts(db, keys)) byKey.set(r.receipt, r);
      for (const j of queued.jobs) {
        const r = byKey.get(j.receipt);
        if (r && r.status !== 'sent')
          throw new JobsmithError(
            `The ${j.kind} message (mail.send #${j.jobId}) was not sent: ${r.error ?? 'no reason given'}${
              r.status === 'retrying'
                ? ` (attempt ${r.attempt}; the worker will try again with the backoff)`
                : ''
            }`,
            { hint: 'See run queue:failed --name mail.send, or the worker log.' },
          );
      }
      const silent = queued.jobs.filter((j) => !byKey.has(j.receipt)).map((j) => j.jobId);
      if (silent.length === 0) break;
      const failed = await failedJobsAmong(db, silent, started);
      for (const j of queued.jobs) {
        const error = failed.get(j.jobId);
        if (error !== undefined)
          throw new JobsmithError(
            `The ${j.kind} message (mail.send #${j.jobId}) failed: ${error}`,
            {
              hint: 'Does the worker have the mail settings (MAIL_URL or MAIL_HOST) in its environment?',
            },
          );
      }
      if (Date.now() >= deadline) {
        const missing = queued.jobs.filter((j) => !byKey.has(j.receipt)).map((j) => `#${j.jobId}`);
        throw new JobsmithError(
          `No worker sent mail.send ${missing.join(', ')} within ${options.timeoutMs / 1000}s. Is a worker running for queue ${queued.queue}? (run queue:work --queue ${queued.queue})`,
          {
            hint: 'The jobs stay queued; a worker sends them when it starts. --no-wait only queues them.',
          },
        );
      }
      await sleep(options.intervalMs ?? 200);
    }
  } finally {
    await deleteReceipts(db, keys).catch(() => undefined);
  }
  return queued.jobs.map((j) => {
    const r = byKey.get(j.receipt)!;
    return {
      kind: j.kind,
      to: j.to,
      jobId: j.jobId,
      messageId: r.messageId ?? '',
      response: r.response ?? '',
    };
  });
}
