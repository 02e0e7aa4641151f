/*
 * The `mail.send` payload, checked at dispatch and again when the job runs. Attachments are
 * read from disk by the worker that sends (a path it can read), never carried in the payload.
 */
import { z } from 'zod';
import { EMAIL_ADDRESS_HELP, hasEmailAddress } from '../util/email-address.js';

const address = z.string().refine(hasEmailAddress, EMAIL_ADDRESS_HELP);
/** One address (`ada@example.com` or `Ada <ada@example.com>`), or several. */
const addresses = z.union([address, z.array(address).min(1)]);

export const mailPayloadSchema = z
  .object({
    to: addresses,
    cc: addresses.optional(),
    bcc: addresses.optional(),
    /** The sender; MAIL_FROM when not given. */
    from: address.optional(),
    replyTo: address.optional(),
    subject: z.string().min(1).max(998),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z
      .array(
        z
          .object({
            /**
             * A file the sending worker can read (absolute, or relative to its working folder),
             * in MAIL_ATTACHMENT_DIRS (default: the working folder) and not hidden.
             */
            path: z.string().min(1),
            /** The name the recipient sees. @defaultValue the file's name */
            filename: z.string().min(1).optional(),
            contentType: z.string().min(1).optional(),
          })
          .strict(),
      )
      .optional(),
    /**
     * A key under which the worker stores the outcome (sent with the server's reply, or the
     * error) in mail_receipts, for a sender that waits for it (`run test:email`).
     */
    receipt: z.string().uuid().optional(),
  })
  .strict()
  .refine((p) => p.text !== undefined || p.html !== undefined, {
    message: 'give text, html or both',
    path: ['text'],
  });

export type MailPayload = z.infer<typeof mailPayloadSchema>;

/** What the server said when it took a message. */
export interface SentMail {
  messageId: string;
  /** The server's last reply, e.g. `250 OK: queued as 1234`. */
  response: string;
  accepted: string[];
  /** Recipients the server refused while it took the others. */
  rejected: string[];
}
