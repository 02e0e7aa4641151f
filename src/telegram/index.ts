/*
 * The public Telegram entry point, `jobsmith/telegram`: the sender's job definition and the
 * helpers that send or schedule from application code. Kept off `jobsmith` itself so an app
 * without Telegram never loads it. grammY is not loaded here: workers send.
 */
import { defineJob } from '../jobs/define.js';
import { Permanent } from '../jobs/errors.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';
import { dispatch, sharedApp } from '../queue/client.js';
import { parseWhen } from './when.js';
import { sendPayloadSchema, type TelegramSendPayload } from './send-payload.js';
import { DEFAULT_SEND_QUEUE, sendQueue } from './settings.js';

export type { TelegramSendPayload } from './send-payload.js';
export { TELEGRAM_RATE_LIMITS } from './send-limits.js';

// For an app that sends from its own job (several sends per job, each under Telegram's limits):
// the content pipeline's publisher (examples/content-pipeline/jobs/publish-send.ts).
export { GLOBAL_LIMIT, chatKey, chatLimitOf, telegramLimits } from './send-limits.js';
export { classifySend } from './send-errors.js';
export { sendDirect } from './send-direct.js';
export type { BotSettings } from './settings.js';
export { TelegramFileError, uploadDirsOf, type LocalFile, type UploadOptions } from './upload.js';

/**
 * The `telegram.send` job, for `dispatch(telegramSend, { bot?, method?, params })`. `params`
 * are the Bot API method's (chat_id required); `method` defaults to sendMessage. It goes to the
 * queue `telegram` unless `queue` says otherwise (sendTelegram uses the config's
 * `telegram.sendQueue`). Workers run their own definition, built from the config.
 */
export const telegramSend: JobDefinition<TelegramSendPayload> = defineJob<TelegramSendPayload>({
  name: 'telegram.send',
  queue: DEFAULT_SEND_QUEUE,
  schema: sendPayloadSchema,
  handle() {
    throw new Permanent(
      'telegram.send runs on a worker whose config has a `telegram` section (run queue:work --queue telegram).',
    );
  },
});

export interface SendTelegramOptions extends DispatchOptions {
  /** The bot's name in the config, or its id. @defaultValue the only bot (or `default`) */
  bot?: string;
  /** Bot API method. @defaultValue 'sendMessage' */
  method?: string;
  /** More of the method's parameters: parse_mode, reply_markup, disable_notification... */
  params?: Record<string, unknown>;
}

/**
 * Stores a `telegram.send` job that sends `text` to `chatId` under Telegram's limits, on the
 * config's `telegram.sendQueue` (default `telegram`). Resolves with the job's id.
 * @throws InvalidPayloadError for a bad chat id or method, naming the field.
 */
export async function sendTelegram(
  chatId: number | string,
  text: string,
  options: SendTelegramOptions = {},
): Promise<DispatchResult> {
  const { bot, method, params, ...dispatchOptions } = options;
  const app = await sharedApp();
  const queue = dispatchOptions.queue ?? sendQueue((await app.config()).config.telegram);
  return dispatch(
    telegramSend,
    { bot, method, params: { ...params, chat_id: chatId, text } },
    { ...dispatchOptions, queue },
  );
}

export interface ScheduleTelegramOptions {
  /** When: a Date, epoch milliseconds, or an ISO 8601 time with its offset; at most a year ahead. */
  at: Date | number | string;
  bot?: string;
  method?: string;
  params?: Record<string, unknown>;
}

/**
 * Stores a message in telegram_scheduled_messages, to be queued by `run scheduled:dispatch`
 * when `at` comes (never before). Resolves with its row id and send time (epoch ms).
 * @throws InvalidPayloadError for a bad chat id or method; RangeError for a bad `at`.
 */
export async function scheduleTelegram(
  chatId: number | string,
  text: string,
  options: ScheduleTelegramOptions,
): Promise<{ id: number; sendAt: number }> {
  const sendAt = parseWhen(options.at, Date.now());
  if (typeof sendAt === 'string') throw new RangeError(`scheduleTelegram: ${sendAt}`);
  const method = options.method ?? 'sendMessage';
  const params = { ...options.params, chat_id: chatId, text };
  const checked = sendPayloadSchema.safeParse({ bot: options.bot, method, params });
  if (!checked.success) {
    const { InvalidPayloadError } = await import('../jobs/errors.js');
    throw new InvalidPayloadError(
      `scheduleTelegram: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const app = await sharedApp();
  const { insertScheduled } = await import('./scheduled-store.js');
  const id = await insertScheduled(await app.db(), {
    bot: options.bot,
    chatId,
    method,
    params,
    sendAt,
  });
  return { id, sendAt };
}

/**
 * Cancels a scheduled message that has not been sent (`pending`, or `queued` and not yet sent:
 * the sender skips it). Resolves with `cancelled`, `not-found`, or `already-sent`,
 * `already-failed`, `already-cancelled` for a message it keeps as it was.
 */
export async function cancelScheduledTelegram(
  id: number,
): Promise<import('./scheduled-store.js').CancelOutcome> {
  const app = await sharedApp();
  const { cancelScheduled } = await import('./scheduled-store.js');
  return (await cancelScheduled(await app.db(), [id])).get(id)!;
}
