/*
 * The built-in mail job a worker gets when mail is configured (MAIL_URL or MAIL_HOST) or its
 * config has a `mail` section, added to its registry by src/cli/app.ts (the core never imports
 * this folder). nodemailer is not loaded here: the job loads it when it first sends.
 */
import type { App } from '../cli/app.js';
import type { MailConfig } from '../config/define.js';
import type { JobDefinition } from '../jobs/types.js';
import type { MailPayload } from './payload.js';
import { mailSendJob } from './send-job.js';
import { mailQueue, mailSettings } from './settings.js';

/** The mail jobs for this app and config. */
export function mailJobs(app: App, mail: MailConfig | undefined): JobDefinition<MailPayload>[] {
  return [
    mailSendJob({
      settings: () => mailSettings(app.env),
      db: () => app.db(),
      queue: mailQueue(mail),
    }),
  ];
}
