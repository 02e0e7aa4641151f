/*
 * The payload of `telegram.send` and `telegram.scheduled`, checked when dispatched. Pure (zod
 * only): the public `jobsmith/telegram` entry loads it.
 */
import { z } from 'zod';

/** A file on the worker's disk, uploaded when sent (upload.ts): `{ path, filename? }`. */
export const localFileSchema = z
  .object({
    path: z.string().min(1, 'a file path'),
    filename: z.string().min(1).max(255).optional(),
  })
  .strict();

/** The InputMedia types a media group takes (https://core.telegram.org/bots/api#sendmediagroup). */
export const MEDIA_GROUP_TYPES = ['photo', 'video', 'document', 'audio'] as const;

/** One InputMedia of a media group: the file as a URL, a file_id or a local file. */
export const inputMediaSchema = z
  .object({
    type: z.enum(MEDIA_GROUP_TYPES),
    media: z.union([z.string().min(1), localFileSchema]),
    caption: z.string().max(1024, 'a caption has at most 1024 characters').optional(),
  })
  .passthrough();

/**
 * sendMediaGroup's `media`: 2 to 10 items; documents only with documents and audio only with
 * audio (photos and videos mix), as the Bot API requires.
 */
export const mediaGroupSchema = z
  .array(inputMediaSchema)
  .min(2, 'a media group has 2 to 10 items')
  .max(10, 'a media group has 2 to 10 items')
  .superRefine((items, ctx) => {
    const types = new Set(items.map((m) => m.type));
    for (const only of ['document', 'audio'] as const)
      if (types.has(only) && types.size > 1)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `a media group with ${only}s has ${only}s only (photos and videos mix)`,
        });
  });

const METHOD = /^(send|copy|forward|edit|delete|pin|unpin)[A-Z][A-Za-z]*$/;

export const sendPayloadSchema = z
  .object({
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
          z
            .string()
            .regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$/, 'a chat id or a channel @username'),
        ]),
      })
      .passthrough(),
    /** telegram_scheduled_messages.id, for `telegram.scheduled`. */
    scheduled: z.number().int().positive().optional(),
  })
  .superRefine((payload, ctx) => {
    if (payload.method !== 'sendMediaGroup') return;
    const checked = mediaGroupSchema.safeParse(payload.params.media);
    if (checked.success) return;
    for (const issue of checked.error.issues)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: issue.message,
        path: ['params', 'media', ...issue.path],
      });
  });

export type TelegramSendPayload = z.infer<typeof sendPayloadSchema>;
