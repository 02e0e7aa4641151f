/*
 * The payload of `telegram.send` and `telegram.scheduled`, checked when dispatched. Pure (zod
 * only): the public `jobsmith/telegram` entry loads it.
 */
import { z } from 'zod';

const METHOD = /^(send|copy|forward|edit|delete|pin|unpin)[A-Z][A-Za-z]*$/;

export const sendPayloadSchema = z.object({
  /** The bot's name in the config (`default` for TELEGRAM_BOT_TOKEN) or its id; omitted: the only bot. */
  bot: z.string().min(1).max(64).optional(),
  /** A Bot API method that sends to a chat. @defaultValue 'sendMessage' */
  method: z
    .string()
    .regex(
      METHOD,
      'a Bot API method that acts on a chat: sendMessage, sendPhoto, copyMessage, editMessageText...',
    )
    .optional(),
  /** The method's parameters as the Bot API takes them; `chat_id` is required. */
  params: z
    .object({
      chat_id: z.union([
        z
          .number()
          .int()
          .refine((n) => n !== 0, 'a chat id is never 0'),
        z.string().regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$/, 'a chat id or a channel @username'),
      ]),
    })
    .passthrough(),
  /** telegram_scheduled_messages.id, for `telegram.scheduled`. */
  scheduled: z.number().int().positive().optional(),
});

export type TelegramSendPayload = z.infer<typeof sendPayloadSchema>;
