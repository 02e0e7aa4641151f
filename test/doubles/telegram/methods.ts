/**
 * The Bot API methods the fake answers, each with enough of Telegram's checks and results for
 * a client to behave as it would against api.telegram.org. Sends (the METHODS_WITH_LIMITS)
 * pass the chat checks, then the limits, and only then are stored and logged in `sent`.
 */
import type { Message, MessageEntity, User } from 'grammy/types';
import type { UploadedFile } from './body.js';
import type { ChatDirectory } from './chats.js';
import { badRequest, tooManyRequests } from './errors.js';
import type { BotLimits } from './limits.js';
import type { UpdateQueue } from './updates.js';

/** Methods that send a message: counted by the limits and logged in `sent`. */
export const METHODS_WITH_LIMITS = new Set([
  'sendMessage',
  'sendMediaGroup',
  'sendPhoto',
  'sendDocument',
  'copyMessage',
  'forwardMessage',
]);

/** What a method sees of its bot and of the request. */
export interface MethodContext {
  me: User;
  chats: ChatDirectory;
  limits: BotLimits;
  updates: UpdateQueue;
  /** Callback query ids pushed and not yet answered. */
  openCallbackQueries: Set<string>;
  params: Record<string, unknown>;
  files: UploadedFile[];
  signal: AbortSignal;
  /** Milliseconds since the epoch, from the fake's clock. */
  now: number;
  /** Called for an accepted send, with the chat and the message it created. */
  onSent(chatId: number, message: Message): void;
  /** Called for each message a delete removed. */
  onDeleted(chatId: number, messageId: number): void;
}

type Method = (ctx: MethodContext) => unknown;

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

/** Target checks, then the limits: the order a 403 or 400 wins over a 429 on Telegram. */
function admit(ctx: MethodContext, chatIdParam: unknown) {
  const chat = ctx.chats.target(chatIdParam);
  const verdict = ctx.limits.check(chat.id, ctx.now);
  if (verdict) throw tooManyRequests(verdict.waitMs / 1000);
  return chat;
}

/** Stores a message the bot sent to `chatIdParam` and counts it against the limits. */
function send(ctx: MethodContext, chatIdParam: unknown, content: Record<string, unknown>): Message {
  const chat = admit(ctx, chatIdParam);
  const markup = ctx.params.reply_markup as { inline_keyboard?: unknown } | undefined;
  const message = ctx.chats.addMessage(
    chat.id,
    (messageId) =>
      ({
        message_id: messageId,
        from: ctx.me,
        chat,
        date: Math.floor(ctx.now / 1000),
        ...content,
        // Telegram echoes only inline keyboards back in the Message.
        ...(markup?.inline_keyboard ? { reply_markup: markup } : {}),
      }) as Message,
  );
  ctx.limits.record(chat.id, ctx.now);
  ctx.onSent(chat.id, message);
  return message;
}

/** A string parameter (file_id, URL) or an uploaded file: the file's id in the result. */
function inputFile(
  ctx: MethodContext,
  field: string,
  value: unknown = ctx.params[field],
): { id: string; name?: string; size?: number } {
  const attached =
    typeof value === 'string' && value.startsWith('attach://')
      ? ctx.files.find((file) => file.field === value.slice('attach://'.length))
      : ctx.files.find((file) => file.field === field);
  if (attached) {
    return {
      id: `upload-${attached.filename}-${attached.data.length}`,
      name: attached.filename,
      size: attached.data.length,
    };
  }
  if (typeof value === 'string' && value !== '') return { id: value };
  throw badRequest(`there is no ${field} in the request`);
}

function caption(ctx: MethodContext): Record<string, unknown> {
  const text = ctx.params.caption;
  return typeof text === 'string' && text !== '' ? { caption: text } : {};
}

function textOf(ctx: MethodContext): { text: string; entities?: MessageEntity[] } {
  const text = ctx.params.text;
  if (typeof text !== 'string' || text.trim() === '') throw badRequest('message text is empty');
  if (text.length > 4096) throw badRequest('message is too long');
  const entities = ctx.params.entities as MessageEntity[] | undefined;
  return { text, ...(entities ? { entities } : {}) };
}

/** The media types a media group takes, and the Message field each becomes. */
const MEDIA_GROUP_TYPES = new Set(['photo', 'video', 'document', 'audio']);

/** One InputMedia of a media group as the Message content it becomes. */
function mediaContent(ctx: MethodContext, item: unknown, index: number): Record<string, unknown> {
  const media = item as { type?: unknown; media?: unknown; caption?: unknown };
  if (typeof media !== 'object' || media === null || !MEDIA_GROUP_TYPES.has(String(media.type)))
    throw badRequest(`wrong type of media ${index} in the media group`);
  const file = inputFile(ctx, `media.${index}`, media.media);
  const unique = { file_id: file.id, file_unique_id: `u-${file.id}` };
  const size = file.size !== undefined ? { file_size: file.size } : {};
  const content: Record<string, unknown> =
    media.type === 'photo'
      ? { photo: [{ ...unique, width: 800, height: 600, ...size }] }
      : media.type === 'video'
        ? { video: { ...unique, width: 640, height: 360, duration: 1, ...size } }
        : {
            [String(media.type)]: {
              ...unique,
              ...(file.name ? { file_name: file.name } : {}),
              ...size,
            },
          };
  if (typeof media.caption === 'string' && media.caption !== '') {
    if (media.caption.length > 1024) throw badRequest('message caption is too long');
    content.caption = media.caption;
  }
  return content;
}

/** The message ids a delete names, checked as numbers. */
function messageIds(value: unknown): number[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 100)
    throw badRequest('message_ids must be a list of 1-100 message identifiers');
  if (!value.every((id) => Number.isSafeInteger(id)))
    throw badRequest('message_ids must be a list of message identifiers');
  return value as number[];
}

/** The message `from_chat_id` / `message_id` name, for a copy or a forward. */
function sourceMessage(ctx: MethodContext, action: 'copy' | 'forward'): Message {
  const from = ctx.chats.source(ctx.params.from_chat_id);
  const message = ctx.chats.message(from.id, ctx.params.message_id);
  if (!message) throw badRequest(`message to ${action} not found`);
  return message;
}

/** The message's content, without its identity (what a copy carries). */
function contentOf(message: Message): Record<string, unknown> {
  const {
    message_id: _id,
    from: _from,
    chat: _chat,
    date: _date,
    edit_date: _edit,
    forward_origin: _origin,
    ...content
  } = message as Message & { edit_date?: number };
  return content;
}

const methods: Record<string, Method> = {
  getMe: (ctx) => ({
    ...ctx.me,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  }),

  getUpdates: (ctx) =>
    ctx.updates.getUpdates(
      {
        offset: ctx.params.offset as number | undefined,
        limit: ctx.params.limit as number | undefined,
        timeout: ctx.params.timeout as number | undefined,
        allowed_updates: ctx.params.allowed_updates,
      },
      ctx.signal,
    ),

  setWebhook: (ctx) => {
    const url = typeof ctx.params.url === 'string' ? ctx.params.url : '';
    if (url !== '' && !url.startsWith('https://')) {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    if (ctx.params.drop_pending_updates === true) ctx.updates.dropPending();
    ctx.updates.setWebhook(url);
    return true;
  },

  deleteWebhook: (ctx) => {
    if (ctx.params.drop_pending_updates === true) ctx.updates.dropPending();
    ctx.updates.setWebhook('');
    return true;
  },

  getWebhookInfo: (ctx) => ({
    url: ctx.updates.webhookUrl,
    has_custom_certificate: false,
    pending_update_count: ctx.updates.pending().length,
  }),

  sendMessage: (ctx) => send(ctx, ctx.params.chat_id, textOf(ctx)),

  sendPhoto: (ctx) => {
    const file = inputFile(ctx, 'photo');
    const size = { file_unique_id: `u-${file.id}`, file_size: file.size ?? 1024 };
    return send(ctx, ctx.params.chat_id, {
      photo: [
        { file_id: `${file.id}-s`, width: 90, height: 90, ...size },
        { file_id: file.id, width: 800, height: 600, ...size },
      ],
      ...caption(ctx),
    });
  },

  sendDocument: (ctx) => {
    const file = inputFile(ctx, 'document');
    return send(ctx, ctx.params.chat_id, {
      document: {
        file_id: file.id,
        file_unique_id: `u-${file.id}`,
        ...(file.name ? { file_name: file.name } : {}),
        ...(file.size !== undefined ? { file_size: file.size } : {}),
      },
      ...caption(ctx),
    });
  },

  // Counted as ONE send against the limits (Telegram does not say how an album counts; the
  // jobsmith sender assumes the same), each of its messages logged in `sent`.
  sendMediaGroup: (ctx) => {
    const items = ctx.params.media;
    if (!Array.isArray(items) || items.length < 2 || items.length > 10)
      throw badRequest('media group must have 2-10 items');
    const contents = items.map((item, index) => mediaContent(ctx, item, index));
    const chat = admit(ctx, ctx.params.chat_id);
    const groupId = `${ctx.now}${Math.floor(Math.random() * 1000)}`;
    const messages = contents.map((content) => {
      const message = ctx.chats.addMessage(
        chat.id,
        (messageId) =>
          ({
            message_id: messageId,
            from: ctx.me,
            chat,
            date: Math.floor(ctx.now / 1000),
            media_group_id: groupId,
            ...content,
          }) as Message,
      );
      ctx.onSent(chat.id, message);
      return message;
    });
    ctx.limits.record(chat.id, ctx.now);
    return messages;
  },

  deleteMessage: (ctx) => {
    const chat = ctx.chats.target(ctx.params.chat_id);
    if (!ctx.chats.deleteMessage(chat.id, ctx.params.message_id))
      throw badRequest('message to delete not found');
    ctx.onDeleted(chat.id, ctx.params.message_id as number);
    return true;
  },

  // Telegram skips the messages it cannot find or delete, and answers true.
  deleteMessages: (ctx) => {
    const chat = ctx.chats.target(ctx.params.chat_id);
    for (const id of messageIds(ctx.params.message_ids))
      if (ctx.chats.deleteMessage(chat.id, id)) ctx.onDeleted(chat.id, id);
    return true;
  },

  copyMessage: (ctx) => {
    const original = sourceMessage(ctx, 'copy');
    const copy = send(ctx, ctx.params.chat_id, {
      ...contentOf(original),
      ...(typeof ctx.params.caption === 'string' ? { caption: ctx.params.caption } : {}),
    });
    return { message_id: copy.message_id };
  },

  forwardMessage: (ctx) => {
    const original = sourceMessage(ctx, 'forward');
    const origin =
      original.chat.type === 'private' || !original.from
        ? { type: 'user', date: original.date, sender_user: original.from ?? ctx.me }
        : { type: 'chat', date: original.date, sender_chat: original.chat };
    return send(ctx, ctx.params.chat_id, { ...contentOf(original), forward_origin: origin });
  },

  editMessageText: (ctx) => {
    const { text, entities } = textOf(ctx);
    if (ctx.params.inline_message_id !== undefined) return true;
    const chat = ctx.chats.target(ctx.params.chat_id);
    const message = ctx.chats.message(chat.id, ctx.params.message_id);
    if (!message) throw badRequest('message to edit not found');
    if (message.from?.id !== ctx.me.id) throw badRequest("message can't be edited");
    const markup = ctx.params.reply_markup;
    const current = message as Message & { text?: string; reply_markup?: unknown };
    if (current.text === text && JSON.stringify(current.reply_markup) === JSON.stringify(markup)) {
      throw badRequest(NOT_MODIFIED);
    }
    const edited = {
      ...message,
      text,
      ...(entities ? { entities } : {}),
      ...(markup ? { reply_markup: markup } : {}),
      edit_date: Math.floor(ctx.now / 1000),
    } as Message;
    ctx.chats.replaceMessage(edited);
    return edited;
  },

  answerCallbackQuery: (ctx) => {
    const id = String(ctx.params.callback_query_id ?? '');
    if (!ctx.openCallbackQueries.delete(id)) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    return true;
  },

  sendChatAction: (ctx) => {
    ctx.chats.target(ctx.params.chat_id);
    if (!CHAT_ACTIONS.has(String(ctx.params.action))) {
      throw badRequest('wrong parameter action in request');
    }
    return true;
  },
};

/** Method names are case-insensitive on Telegram (`sendmessage` works too). */
const byLowerName = new Map(
  Object.entries(methods).map(([name, fn]) => [name.toLowerCase(), { name, fn }]),
);

/** The method's canonical name and implementation, or undefined (Telegram answers 404). */
export function findMethod(name: string): { name: string; fn: Method } | undefined {
  return byLowerName.get(name.toLowerCase());
}
