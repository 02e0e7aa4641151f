/*
 * The built-in `mail.send` job: one message through the worker's pooled SMTP transport. A 5xx
 * reply about the sender, a recipient or the message fails the job at once (Permanent); 4xx
 * replies, timeouts and connection problems are retried with the backoff (errors.ts). A payload
 * with a `receipt` gets its outcome written to mail_receipts, for a sender that waits.
 */
import type { Database } from '../db/connection.js';
import { defineJob } from '../jobs/define.js';
import { Permanent } from '../jobs/errors.js';
import type { JobContext, JobDefinition } from '../jobs/types.js';
import { classifyMailError } from './errors.js';
import { mailPayloadSchema, type MailPayload, type SentMail } from './payload.js';
import { checkLocalFile } from '../util/local-files.js';
import { recordReceipt } from './receipts-store.js';
import { DEFAULT_MAIL_QUEUE, type MailSettings } from './settings.js';
import { deliver, pooledTransport } from './transport.js';

export const MAIL_JOB = 'mail.send';

export interface MailJobDeps {
  /** The SMTP settings; throws MailNotConfigured when the worker's environment has none. */
  settings: () => MailSettings;
  /** The SQL storage, where mail_receipts lives. */
  db: () => Promise<Database>;
  queue?: string;
}

/** Tries in all, and the seconds between them: a deferring server often wants minutes. */
export const MAIL_TRIES = 5;
export const MAIL_BACKOFF = [10, 60, 300, 900];

/** `mail.send` for a worker with these settings. */
export function mailSendJob(deps: MailJobDeps): JobDefinition<MailPayload> {
  return defineJob<MailPayload>({
    name: MAIL_JOB,
    queue: deps.queue ?? DEFAULT_MAIL_QUEUE,
    schema: mailPayloadSchema,
    tries: MAIL_TRIES,
    backoff: MAIL_BACKOFF,
    timeout: 60,
    handle: (payload, ctx) => sendMail(deps, payload, ctx),
    async failed(payload, error, ctx) {
      // The last attempt's receipt said `retrying`; no attempt follows it.
      await receipt(deps, payload, ctx, { error: error.message, final: true });
    },
  });
}

/** Sends the message; resolves with the server's answer (logged, and kept in the receipt). */
async function sendMail(
  deps: MailJobDeps,
  payload: MailPayload,
  ctx: JobContext,
): Promise<SentMail> {
  let settings: MailSettings;
  try {
    settings = deps.settings();
  } catch (error) {
    // The worker's environment lacks MAIL_*: retried, so a fixed environment sends it.
    await receipt(deps, payload, ctx, { error: (error as Error).message, final: false });
    throw error;
  }
  if (payload.from === undefined && settings.from === undefined) {
    const message = 'The message has no sender: set MAIL_FROM, or give `from` in the payload.';
    await receipt(deps, payload, ctx, { error: message, final: true });
    throw new Permanent(message);
  }
  const refused = await refusedAttachment(payload, settings);
  if (refused !== undefined) {
    await receipt(deps, payload, ctx, { error: refused, final: true });
    throw new Permanent(refused);
  }
  let sent: SentMail;
  try {
    const transport = await pooledTransport(settings);
    sent = await abortable(deliver(transport, settings, payload), ctx.signal);
  } catch (error) {
    const failure = classifyMailError(error, settings);
    await receipt(deps, payload, ctx, { error: failure.description, final: failure.permanent });
    if (failure.permanent) throw new Permanent(failure.description, { cause: error });
    throw new Error(failure.description, { cause: error });
  }
  ctx.log.info('mail sent', {
    jobId: ctx.jobId,
    messageId: sent.messageId,
    response: sent.response,
    ...(sent.rejected.length > 0 ? { rejected: sent.rejected } : {}),
  });
  if (payload.receipt !== undefined)
    await recordReceipt(await deps.db(), {
      receipt: payload.receipt,
      jobId: ctx.jobId,
      status: 'sent',
      messageId: sent.messageId,
      response: sent.response,
      error: sent.rejected.length > 0 ? `refused: ${sent.rejected.join(', ')}` : null,
      attempt: ctx.attempt,
    });
  return sent;
}

/** Writes a failed attempt to the payload's receipt, if it asked for one. */
async function receipt(
  deps: MailJobDeps,
  payload: MailPayload,
  ctx: JobContext,
  outcome: { error: string; final: boolean },
): Promise<void> {
  if (payload.receipt === undefined) return;
  await recordReceipt(await deps.db(), {
    receipt: payload.receipt,
    jobId: ctx.jobId,
    status: outcome.final ? 'failed' : 'retrying',
    messageId: null,
    response: null,
    error: outcome.error,
    attempt: ctx.attempt,
  });
}

/**
 * Settles with `work`, or rejects when `signal` fires (the job's timeout). nodemailer's send
 * has no AbortSignal; the pool's socket timeout ends the connection itself.
 */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Why an attachment may not be sent, or undefined when all may: a missing or unreadable file, or
 * one outside MAIL_ATTACHMENT_DIRS (by default the working directory) or hidden (`.env`), since
 * whoever dispatches mail.send names the paths (src/util/local-files.ts). Checked before the
 * SMTP connection, so nothing is sent.
 */
async function refusedAttachment(
  payload: MailPayload,
  settings: MailSettings,
): Promise<string | undefined> {
  for (const attachment of payload.attachments ?? []) {
    const { problem } = await checkLocalFile(attachment.path, {
      dirs: settings.attachmentDirs,
      setting: 'MAIL_ATTACHMENT_DIRS',
    });
    if (problem !== undefined) return `Cannot attach ${attachment.path}: ${problem}.`;
  }
  return undefined;
}
