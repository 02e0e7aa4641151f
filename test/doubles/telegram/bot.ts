/**
 * One fake bot: its token and identity, its update queue, the chats it knows, its limits.
 * The server routes `/bot<token>/<method>` here; the test drives the same object to play the
 * users' side (pushMessage, pushCallbackQuery) and to set chat state (block, migrate).
 */
import { randomBytes } from 'node:crypto';
import type { Message, Update, User } from 'grammy/types';
import type { UploadedFile } from './body.js';
import { ChatDirectory, userFor, type ChatInfo } from './chats.js';
import { notFound, type ForbiddenReason } from './errors.js';
import { BotLimits, type LimitOptions } from './limits.js';
import { findMethod } from './methods.js';
import { UpdateQueue } from './updates.js';

export interface FakeBotOptions {
  /** The token, `<bot id>:<35 characters>` like Telegram's. @defaultValue a random one */
  token?: string;
  /** @defaultValue `fake_<id>_bot` */
  username?: string;
  limits?: LimitOptions;
  /** Chats known from the start (others answer "chat not found" until pushed or added). */
  chats?: number[];
  /** Accept sends to any chat id instead of answering "chat not found". @defaultValue false */
  acceptAnyChat?: boolean;
  /** The first update's id. @defaultValue a random value, as Telegram's ids are */
  firstUpdateId?: number;
}

/** A message the bot sent and the fake accepted. */
export interface SentMessage {
  /** The bot's id (the token's numeric prefix). */
  bot: number;
  method: string;
  chatId: number;
  /** The parameters as the fake read them (files as `attach://` strings). */
  params: Record<string, unknown>;
  /** The Message the bot got back. */
  message: Message;
  /** The fake's clock when it was accepted, ms since the epoch. */
  at: number;
}

/** A message a deleteMessage(s) call removed. */
export interface DeletedMessage {
  bot: number;
  chatId: number;
  messageId: number;
  /** The fake's clock when it was deleted, ms since the epoch. */
  at: number;
}

/** Who sends a pushed message: a user (defaults to the private chat's user). */
export type FromUser = Partial<User> & { id: number };

export function randomToken(): string {
  const id = 100_000_000 + Math.floor(Math.random() * 900_000_000);
  return `${id}:${randomBytes(27).toString('base64url').slice(0, 35)}`;
}

const TOKEN_SHAPE = /^(\d+):[A-Za-z0-9_-]+$/;

export class FakeBot {
  readonly token: string;
  readonly id: number;
  readonly me: User;
  readonly updates: UpdateQueue;
  readonly chats: ChatDirectory;
  private readonly limits: BotLimits;
  private readonly openCallbackQueries = new Set<string>();
  private nextCallbackQuery = 1;

  constructor(
    options: FakeBotOptions,
    private readonly clock: () => number,
    private readonly onSent: (entry: SentMessage) => void,
    private readonly onDeleted: (entry: DeletedMessage) => void = () => undefined,
  ) {
    this.token = options.token ?? randomToken();
    const shape = TOKEN_SHAPE.exec(this.token);
    if (!shape) {
      throw new Error(
        `startFakeBotApi: token ${JSON.stringify(this.token)} is not shaped like a Telegram token; use "<digits>:<letters, digits, _ or ->"`,
      );
    }
    this.id = Number(shape[1]);
    this.me = {
      id: this.id,
      is_bot: true,
      first_name: 'Fake Bot',
      username: options.username ?? `fake_${this.id}_bot`,
    };
    this.limits = new BotLimits(options.limits);
    this.chats = new ChatDirectory(options.acceptAnyChat ?? false);
    for (const chat of options.chats ?? []) this.chats.add(chat);
    this.updates = new UpdateQueue(
      options.firstUpdateId ?? 10_000_000 + Math.floor(Math.random() * 800_000_000),
    );
  }

  /** Runs one Bot API method; throws ApiError for Telegram's error replies. */
  async call(
    method: string,
    params: Record<string, unknown>,
    files: UploadedFile[],
    signal: AbortSignal,
  ): Promise<{ method: string; result: unknown }> {
    const found = findMethod(method);
    if (!found) throw notFound();
    const result = await found.fn({
      me: this.me,
      chats: this.chats,
      limits: this.limits,
      updates: this.updates,
      openCallbackQueries: this.openCallbackQueries,
      params,
      files,
      signal,
      now: this.clock(),
      onSent: (chatId, message) =>
        this.onSent({
          bot: this.id,
          method: found.name,
          chatId,
          params,
          message,
          at: this.clock(),
        }),
      onDeleted: (chatId, messageId) =>
        this.onDeleted({ bot: this.id, chatId, messageId, at: this.clock() }),
    });
    return { method: found.name, result };
  }

  /**
   * Queues an update; `update_id` is assigned (pass none). Chats it mentions become known and
   * callback queries become answerable. Returns null when allowed_updates filters it out.
   */
  pushUpdate(update: Record<string, unknown>): Update | null {
    if ('update_id' in update) {
      throw new Error(
        'pushUpdate: pass the update without update_id; ids are assigned in order (use restartUpdateIds(from) to choose them)',
      );
    }
    for (const value of Object.values(update)) this.learnChats(value);
    const pushed = this.updates.push(update);
    const query = (pushed as { callback_query?: { id?: string } } | null)?.callback_query;
    if (query?.id) this.openCallbackQueries.add(query.id);
    return pushed;
  }

  /** A user's text message in `chatId` (a `/command` gets its bot_command entity). */
  pushMessage(chatId: number, text: string, from?: FromUser): Update | null {
    const chat = this.chats.add(chatId);
    const sender = {
      ...userFor(chat.type === 'private' ? chat : this.chats.add(from?.id ?? 1)),
      ...from,
    };
    if (chat.type !== 'private') this.chats.add(sender.id);
    const command = /^\/\S+/.exec(text);
    const message = this.chats.addMessage(
      chatId,
      (messageId) =>
        ({
          message_id: messageId,
          from: sender,
          chat,
          date: Math.floor(this.clock() / 1000),
          text,
          ...(command
            ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }
            : {}),
        }) as Message,
    );
    return this.pushUpdate({ message });
  }

  /** A user pressing an inline button under `messageId` (a message of the bot in `chatId`). */
  pushCallbackQuery(
    chatId: number,
    data: string,
    messageId?: number,
    from?: FromUser,
  ): Update | null {
    const chat = this.chats.add(chatId);
    const message = messageId === undefined ? undefined : this.chats.message(chatId, messageId);
    if (messageId !== undefined && !message) {
      throw new Error(`pushCallbackQuery: chat ${chatId} has no message ${messageId}`);
    }
    const sender = {
      ...userFor(chat.type === 'private' ? chat : this.chats.add(from?.id ?? 1)),
      ...from,
    };
    const id = `${this.id}-${this.nextCallbackQuery++}`;
    return this.pushUpdate({
      callback_query: {
        id,
        from: sender,
        chat_instance: String(chatId),
        data,
        ...(message ? { message } : {}),
      },
    });
  }

  addChat(chatId: number, info?: ChatInfo): void {
    this.chats.add(chatId, info);
  }

  block(chatId: number, reason: ForbiddenReason = 'blocked'): void {
    this.chats.block(chatId, reason);
  }

  unblock(chatId: number): void {
    this.chats.unblock(chatId);
  }

  migrate(chatId: number, toChatId: number): void {
    this.chats.migrate(chatId, toChatId);
  }

  /** Sets the webhook without Telegram's HTTPS check ('' removes it). */
  setWebhook(url: string): void {
    this.updates.setWebhook(url);
  }

  restartUpdateIds(from: number): void {
    this.updates.restartIds(from);
  }

  /** Whether a getUpdates is held now: push after this to test the hold. */
  holding(): boolean {
    return this.updates.holding();
  }

  /** Updates queued and not yet confirmed. */
  pendingUpdates(): readonly Update[] {
    return this.updates.pending();
  }

  /** Makes every chat or user object inside an update known, as Telegram knows them. */
  private learnChats(value: unknown, depth = 0): void {
    if (typeof value !== 'object' || value === null || depth > 4) return;
    const record = value as Record<string, unknown>;
    const chat = record.chat as { id?: unknown; type?: string } | undefined;
    if (chat && typeof chat.id === 'number') {
      this.chats.add(chat.id, chat as ChatInfo);
    }
    for (const nested of Object.values(record)) this.learnChats(nested, depth + 1);
  }
}
