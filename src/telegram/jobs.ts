/*
 * The built-in Telegram jobs a config gets when it has a `telegram` section with a handler,
 * added to its registry by src/cli/app.ts (the core never imports this folder). The sender's
 * `telegram.send` job belongs in this list too.
 */
import type { App } from '../cli/app.js';
import type { TelegramConfig } from '../config/define.js';
import type { JobDefinition } from '../jobs/types.js';
import { telegramBots } from './settings.js';
import { telegramUpdateJob } from './update-job.js';

/** The Telegram jobs for this app and config. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function telegramJobs(app: App, telegram: TelegramConfig): JobDefinition<any>[] {
  if (!telegram.handler) return [];
  return [
    telegramUpdateJob({
      db: () => app.db(),
      bots: () => telegramBots(app.env, telegram),
      apiRoot: app.env.TELEGRAM_API_ROOT,
      telegram,
    }),
  ];
}
