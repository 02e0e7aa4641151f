/*
 * The seam for calls a handler makes (ctx.reply, ctx.api.sendMessage...). By default
 * (`telegram.replies: 'queue'`) an API transformer on the handler Bot's `bot.api` turns each
 * send into a `telegram.send` job, so replies obey Telegram's limits with every other send, and
 * answers at once with a placeholder result (message_id 0: the message does not exist yet).
 * grammY copies bot.api's transformers onto each update's ctx.api (Bot.handleUpdate), so one
 * transformer here covers every handler. Calls that cannot wait in a queue go straight to
 * Telegram: methods whose result a handler needs (getChat, answerCallbackQuery...), edits, and
 * uploads (an InputFile is not JSON).
 */
import type { Bot } from 'grammy';
import type { DispatchResult } from '../jobs/types.js';
import type { TelegramSendPayload } from './send-payload.js';
import type { BotSettings } from './settings.js';

/** Stores one send as a telegram.send job. */
export type OutgoingRoute = (payload: TelegramSendPayload) => Promise<DispatchResult>;

/** Methods that go through the sender; each answers a Message (copyMessage a MessageId). */
export const QUEUED_METHODS: ReadonlySet<string> = new Set([
  'sendMessage',
  'sendPhoto',
  'sendDocument',
  'sendAudio',
  'sendVideo',
  'sendAnimation',
  'sendVoice',
  'sendSticker',
  'sendLocation',
  'sendVenue',
  'sendContact',
  'sendDice',
  'forwardMessage',
  'copyMessage',
]);

/** True when `value` is made of JSON values only (no InputFile, no Date, no function). */
export function isPlainJson(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value as object).every((v) => v === undefined || isPlainJson(v));
}

/** The placeholder a queued send answers with: the shape of the method's result. */
export function placeholderResult(method: string, params: Record<string, unknown>): unknown {
  if (method === 'copyMessage') return { message_id: 0 };
  const chatId = params.chat_id;
  const numeric = typeof chatId === 'number' ? chatId : Number(chatId);
  const chat =
    Number.isFinite(numeric) && numeric > 0
      ? { id: numeric, type: 'private', first_name: '' }
      : { id: Number.isFinite(numeric) ? numeric : 0, type: 'supergroup', title: '' };
  const message: Record<string, unknown> = {
    message_id: 0,
    date: Math.floor(Date.now() / 1000),
    chat,
  };
  if (typeof params.text === 'string') message.text = params.text;
  return message;
}

/** Routes a handler Bot's sends through `route` (telegram.send jobs). */
export function routeOutgoing(bot: Bot, settings: BotSettings, route: OutgoingRoute): void {
  bot.api.config.use(async (prev, method, payload, signal) => {
    const params = payload as unknown as Record<string, unknown>;
    if (!QUEUED_METHODS.has(method) || params?.chat_id === undefined || !isPlainJson(params))
      return prev(method, payload, signal);
    await route({ bot: settings.name, method, params: params as TelegramSendPayload['params'] });
    return { ok: true, result: placeholderResult(method, params) } as Awaited<
      ReturnType<typeof prev>
    >;
  });
}
