/*
 * The built-in Telegram jobs a config gets when it has a `telegram` section, added to its
 * registry by src/cli/app.ts (the core never imports this folder): the sender's `telegram.send`
 * and `telegram.scheduled` always, `telegram.update` when it has a handler.
 */
import type { App } from '../cli/app.js';
import type { TelegramConfig } from '../config/define.js';
import type { JobDefinition } from '../jobs/types.js';
import { SEND_JOB, telegramSendJobs } from './send-job.js';
import type { TelegramSendPayload } from './send-payload.js';
import { sendQueue, telegramBots } from './settings.js';
import { uploadDirsOf } from './upload.js';
import { telegramUpdateJob } from './update-job.js';

/** The Telegram jobs for this app and config. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function telegramJobs(app: App, telegram: TelegramConfig): JobDefinition<any>[] {
  const deps = {
    db: () => app.db(),
    bots: () => telegramBots(app.env, telegram),
    apiRoot: app.env.TELEGRAM_API_ROOT,
    uploadDirs: uploadDirsOf(app.env.TELEGRAM_UPLOAD_DIRS),
  };
  const senders = telegramSendJobs({ ...deps, queue: sendQueue(telegram) });
  const sendJob = senders.find((j) => j.name === SEND_JOB)!;
  if (!telegram.handler) return senders;
  return [
    ...senders,
    telegramUpdateJob({
      ...deps,
      telegram,
      // Replies made inside handlers become telegram.send jobs, unless the app says direct.
      replies:
        telegram.replies === 'direct'
          ? undefined
          : (payload: TelegramSendPayload) => app.dispatcher().dispatch(sendJob, payload),
    }),
  ];
}
