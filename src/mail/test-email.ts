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
import type { MailPayload } from './payload.js';
import { deleteReceipts, failedJobsAmong, readReceipts, type Receipt } from './receipts-store.js';
import { MAIL_JOB } from './send-job.js';
import { describeServer, mailSettings, type MailSettings } from './settings.js';
import { deliver, singleTransport } from './transport.js';

/** One test message's outcome, as the command prints it (and --json shows it). */
export interface TestOutcome {
  kind: string;
  to: string;
  jobId?: string;
  /**
   * `sent`; `failed` (for good); `retrying` (the job waits in its queue for the next attempt);
   * `not sent` (not tried, or no worker took it in time).
   */
  status: 'sent' | 'failed' | 'retrying' | 'not sent';
  messageId?: string;
  /** The SMTP server's answer, e.g. `250 2.0.0 Ok: queued as 4F1A2`. */
  response?: string;
  /** Why it was not sent, in words, with the fix. */
  error?: string;
  /** The attempt the error is from (queued messages). */
  attempt?: number;
}

/** Some test message was not sent: `outcomes` has every message's, `message` one line each. */
export class TestEmailFailed extends JobsmithError {
  constructor(
    readonly outcomes: TestOutcome[],
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'TestEmailFailed';
  }
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

/**
 * What --dry-run found: `login` is `logged in` (as MAIL_USERNAME), `none asked` (the server
 * offers no AUTH) or `offered, none set` (it offers AUTH and no login is set: a server that
 * requires it answers the messages' MAIL FROM with 530, a relay that does not takes them).
 */
export interface VerifyResult {
  server: string;
  login: 'logged in' | 'none asked' | 'offered, none set';
}

/** Connects and logs in, nothing more. */
export async function verifyServer(settings: MailSettings): Promise<VerifyResult> {
  const server = describeServer(settings);
  // Without a login, forceAuth makes verify() say whether the server offers AUTH (ENOAUTH).
  const transport = await singleTransport(settings, { forceAuth: !settings.username });
  try {
    await transport.verify();
  } catch (error) {
    if (!settings.username && (error as { code?: string }).code === 'ENOAUTH')
      return { server, login: 'offered, none set' };
    throw new JobsmithError(classifyMailError(error, settings).description, { cause: error });
  } finally {
    transport.close();
  }
  return { server, login: settings.username ? 'logged in' : 'none asked' };
}

/** The failure for the messages not sent among `outcomes`, one line each. */
function failure(outcomes: TestOutcome[], hint?: string): TestEmailFailed {
  const lines = outcomes
    .filter((o) => o.status !== 'sent')
    .map((o) => `The ${o.kind} message${o.jobId ? ` (mail.send #${o.jobId})` : ''} ${o.error}`);
  return new TestEmailFailed(outcomes, lines.join('\n'), { hint });
}

/**
 * Sends the messages directly, in order. A message the server refuses does not stop the next
 * (its recipient may fare otherwise); a failure without the server's answer (connection, TLS,
 * timeout) does: the next would fail the same way, after the same wait. Resolves with the
 * outcomes when all were sent; throws TestEmailFailed with every message's otherwise.
 */
export async function sendNow(
  settings: MailSettings,
  messages: Array<{ kind: string; payload: MailPayload }>,
): Promise<TestOutcome[]> {
  requireFrom(settings);
  const transport = await singleTransport(settings);
  const outcomes: TestOutcome[] = [];
  let stopped = false;
  try {
    for (const { kind, payload } of messages) {
      const to = String(payload.to);
      if (stopped) {
        outcomes.push({
          kind,
          to,
          status: 'not sent',
          error: 'was not tried: the failure above would stop it too.',
        });
        continue;
      }
      try {
        const sent = await deliver(transport, settings, payload);
        outcomes.push({
          kind,
          to,
          status: 'sent',
          messageId: sent.messageId,
          response: sent.response,
        });
      } catch (error) {
        const why = classifyMailError(error, settings).description;
        outcomes.push({ kind, to, status: 'failed', error: `was not sent: ${why}` });
        stopped = (error as { responseCode?: number }).responseCode === undefined;
      }
    }
  } finally {
    transport.close();
  }
  if (outcomes.some((o) => o.status !== 'sent')) throw failure(outcomes);
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

/** How long to wait for the other messages once one has a failed attempt: ms. */
export const AFTER_FAILURE_MS = 5_000;

/**
 * Waits until every queued message has an outcome (a receipt, or a failed job that never wrote
 * one), polling every `intervalMs`, for at most `timeoutMs`; once one failed, the others get at
 * most `afterFailureMs` more. Resolves with the outcomes when all were sent; throws
 * TestEmailFailed with every message's outcome otherwise (failed, retrying, or not taken in time).
 */
export async function waitForReceipts(
  app: Pick<App, 'db'>,
  queued: { queue: string; jobs: QueuedTest[] },
  options: { timeoutMs: number; intervalMs?: number; afterFailureMs?: number },
): Promise<TestOutcome[]> {
  const db = await app.db();
  const keys = queued.jobs.map((j) => j.receipt);
  const started = Date.now() - 1_000;
  let deadline = Date.now() + options.timeoutMs;
  let shortened = false;
  const byKey = new Map<string, Receipt>();
  let failedJobs = new Map<string, string>();
  try {
    for (;;) {
      for (const r of await readReceipts(db, keys)) byKey.set(r.receipt, r);
      const silent = queued.jobs.filter((j) => !byKey.has(j.receipt)).map((j) => j.jobId);
      failedJobs = silent.length > 0 ? await failedJobsAmong(db, silent, started) : new Map();
      if (silent.every((id) => failedJobs.has(id))) break;
      const failedOne = failedJobs.size > 0 || [...byKey.values()].some((r) => r.status !== 'sent');
      if (failedOne && !shortened) {
        shortened = true;
        deadline = Math.min(deadline, Date.now() + (options.afterFailureMs ?? AFTER_FAILURE_MS));
      }
      if (Date.now() >= deadline) break;
      await sleep(options.intervalMs ?? 200);
    }
  } finally {
    await deleteReceipts(db, keys).catch(() => undefined);
  }
  const outcomes = queued.jobs.map((j): TestOutcome => {
    const base = { kind: j.kind, to: j.to, jobId: j.jobId };
    const r = byKey.get(j.receipt);
    if (r?.status === 'sent')
      return { ...base, status: 'sent', messageId: r.messageId ?? '', response: r.response ?? '' };
    if (r?.status === 'retrying')
      return {
        ...base,
        status: 'retrying',
        attempt: r.attempt,
        error: `was not sent yet: ${r.error ?? 'no reason given'} (attempt ${r.attempt} failed; the job waits in queue ${queued.queue} for the worker to try again with the backoff).`,
      };
    if (r)
      return {
        ...base,
        status: 'failed',
        attempt: r.attempt,
        error: `was not sent: ${r.error ?? 'no reason given'}`,
      };
    const error = failedJobs.get(j.jobId);
    if (error !== undefined) return { ...base, status: 'failed', error: `failed: ${error}` };
    return {
      ...base,
      status: 'not sent',
      error: `was not sent within ${options.timeoutMs / 1000}s: is a worker running for queue ${queued.queue}? (run queue:work --queue ${queued.queue})`,
    };
  });
  if (outcomes.every((o) => o.status === 'sent')) return outcomes;
  throw failure(outcomes, hintFor(outcomes, queued.queue));
}

/** Where to look next: failed jobs, jobs waiting for a retry, or a worker. */
function hintFor(outcomes: TestOutcome[], queue: string): string {
  const hints: string[] = [];
  if (outcomes.some((o) => o.status === 'failed' && o.error?.startsWith('failed:')))
    hints.push(
      'Does the worker have the mail settings (MAIL_URL or MAIL_HOST) in its environment?',
    );
  if (outcomes.some((o) => o.status === 'failed'))
    hints.push('Failed jobs: run queue:failed --name mail.send.');
  if (outcomes.some((o) => o.status === 'retrying'))
    hints.push(
      `Jobs waiting for their next attempt are not in failed jobs: run queue:list ${queue} --state delayed to watch them.`,
    );
  if (outcomes.some((o) => o.status === 'not sent'))
    hints.push(
      'Jobs no worker took stay queued; a worker sends them when it starts. --no-wait only queues them.',
    );
  return hints.join('\n');
}
