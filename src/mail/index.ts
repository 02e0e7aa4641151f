/*
 * The public mail entry point, `jobsmith/mail`: the `mail.send` job definition and `sendMail`,
 * which queues a message from application code. Kept off `jobsmith` itself so an app without
 * mail never loads it. nodemailer is not loaded here: workers send.
 */
import { defineJob } from '../jobs/define.js';
import { Permanent } from '../jobs/errors.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';
import { dispatch, sharedApp } from '../queue/client.js';
import { mailPayloadSchema, type MailPayload } from './payload.js';
import { DEFAULT_MAIL_QUEUE, mailQueue } from './settings.js';

export type { MailPayload, SentMail } from './payload.js';

/**
 * The `mail.send` job, for `dispatch(mailSend, { to, subject, text })`. It goes to the queue
 * `mail` unless `queue` says otherwise (sendMail uses the config's `mail.queue`). Workers run
 * their own definition, built from their environment (MAIL_URL or MAIL_HOST...).
 */
export const mailSend: JobDefinition<MailPayload> = defineJob<MailPayload>({
  name: 'mail.send',
  queue: DEFAULT_MAIL_QUEUE,
  schema: mailPayloadSchema,
  handle() {
    throw new Permanent(
      'mail.send runs on a worker whose environment configures mail (MAIL_URL or MAIL_HOST): run queue:work --queue mail there.',
    );
  },
});

/**
 * Queues a `mail.send` job for `message` (to, cc, bcc, from, replyTo, subject, text and/or
 * html, attachments by path) on the config's `mail.queue` (default `mail`); a worker sends it.
 * Resolves with the job's id.
 * @throws InvalidPayloadError when the message fails the schema, naming the field.
 * @example
 * ```ts
 * await sendMail({ to: 'ada@example.com', subject: 'Welcome', text: 'Hello Ada' });
 * ```
 */
export async function sendMail(
  message: MailPayload,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  const app = await sharedApp();
  const queue = options.queue ?? mailQueue((await app.config()).config.mail);
  return dispatch(mailSend, message, { ...options, queue });
}
