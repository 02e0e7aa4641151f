/*
 * The built-in `telegram.update` job: runs one stored update through the config's grammY
 * handler. Registered when the config has `telegram.handler` (src/cli/app.ts). Its payload
 * names the telegram_updates row; the row is the truth: a job for a row already handled skips
 * (recorded as skipped, not failed), so a dispatch repeated after a crash of `run longpoll`
 * never runs a handler twice for one update.
 */
import { z } from 'zod';
import type { TelegramConfig } from '../config/define.js';
import type { Database } from '../db/connection.js';
import { ConfigError } from '../errors.js';
import { defineJob } from '../jobs/define.js';
import { JobSkipped, Permanent } from '../jobs/errors.js';
import type { JobDefinition } from '../jobs/types.js';
import { handlerBot, handlerError } from './handler-bot.js';
import type { OutgoingRoute } from './outgoing.js';
import type { BotSettings } from './settings.js';
import { updatesQueue } from './settings.js';
import { findUpdate, markError, markHandled } from './updates-store.js';

export const UPDATE_JOB = 'telegram.update';

const payloadSchema = z.object({
  /** telegram_updates.id */
  id: z.number().int().positive(),
  /** The bot's id. */
  bot: z.string(),
  updateId: z.number().int(),
});
export type UpdatePayload = z.infer<typeof payloadSchema>;

/** How long a dispatch's unique key holds while its job waits: longer than any outage. */
const UNIQUE_FOR_S = 30 * 86_400;

export interface UpdateJobDeps {
  /** The SQL storage, where telegram_updates lives whatever the queue connection. */
  db: () => Promise<Database>;
  /** The configured bots (TELEGRAM_BOT_TOKEN and telegram.bots). */
  bots: () => BotSettings[];
  apiRoot: string;
  telegram: TelegramConfig;
  /** Stores a send made inside a handler as a telegram.send job; undefined: send directly. */
  replies?: OutgoingRoute;
}

/** The unique key of an update's job: one live job per update, however often it is dispatched. */
export function updateJobKey(p: UpdatePayload): string {
  return `${UPDATE_JOB}:${p.bot}:${p.updateId}`;
}

/** The `telegram.update` definition for this config. */
export function telegramUpdateJob(deps: UpdateJobDeps): JobDefinition<UpdatePayload> {
  const handler = deps.telegram.handler;
  return defineJob<UpdatePayload>({
    name: UPDATE_JOB,
    queue: updatesQueue(deps.telegram),
    schema: payloadSchema,
    tries: 3,
    backoff: [5, 30, 120],
    timeout: 60,
    unique: { key: updateJobKey, for: UNIQUE_FOR_S },
    async handle(p, ctx) {
      const db = await deps.db();
      const row = await findUpdate(db, p.id);
      if (!row || row.bot !== p.bot || row.updateId !== p.updateId)
        throw new JobSkipped(`update ${p.updateId} of bot ${p.bot} is no longer stored`);
      if (row.status === 'handled')
        throw new JobSkipped(`update ${p.updateId} of bot ${p.bot} was already handled`);
      if (!handler) {
        throw new ConfigError(
          'The config has no telegram.handler, so telegram.update jobs have nothing to run.',
        );
      }
      const settings = deps.bots().find((b) => b.id === p.bot);
      if (!settings) {
        throw new Permanent(
          `No configured bot has the id ${p.bot}; set TELEGRAM_BOT_TOKEN or telegram.bots to its token.`,
        );
      }
      try {
        const bot = await handlerBot(settings, handler, deps.apiRoot, deps.replies, ctx.signal);
        await bot.handleUpdate(JSON.parse(row.update));
      } catch (error) {
        const cause = handlerError(error);
        // The row keeps the attempt's error; failed() marks it failed when no try is left.
        await markError(db, p.id, ctx.jobId, cause.message, false);
        throw cause;
      }
      await markHandled(db, p.id, ctx.jobId);
    },
    async failed(p, error, ctx) {
      await markError(await deps.db(), p.id, ctx.jobId, error.message, true);
    },
  });
}
