/**
 * The chats one bot knows, their state as the test sets it (blocked, migrated), and the
 * messages in them, so edits, copies and forwards can find the message they name.
 *
 * A chat id's sign gives its kind, as on Telegram: positive ids are private chats (the user's
 * id), negative ids are groups, and ids at or below -1000000000000 are supergroups or channels.
 */
import type { Chat, Message, User } from 'grammy/types';
import { ApiError, chatNotFound, forbidden, migrated, type ForbiddenReason } from './errors.js';

/** Supergroup and channel ids start at -100 followed by 10 digits. */
const SUPERGROUP_FLOOR = -1_000_000_000_000;

export interface ChatInfo {
  /** @defaultValue 'private' for positive ids, 'group' for small negative ids, else 'supergroup' */
  type?: Chat['type'];
  /** Group or channel title. @defaultValue `Chat <id>` */
  title?: string;
  /** For a private chat. @defaultValue `User <id>` */
  first_name?: string;
  username?: string;
}

interface ChatRecord {
  chat: Chat;
  blocked?: ForbiddenReason;
  migratedTo?: number;
  nextMessageId: number;
  messages: Map<number, Message>;
}

export function defaultChat(id: number, info: ChatInfo = {}): Chat {
  const type = info.type ?? (id > 0 ? 'private' : id > SUPERGROUP_FLOOR ? 'group' : 'supergroup');
  const username = info.username ? { username: info.username } : {};
  if (type === 'private') {
    return { id, type, first_name: info.first_name ?? `User ${id}`, ...username };
  }
  return { id, type, title: info.title ?? `Chat ${id}`, ...username } as Chat;
}

/** The user behind a private chat: the same id, as on Telegram. */
export function userFor(chat: Chat): User {
  return {
    id: chat.id,
    is_bot: false,
    first_name: 'first_name' in chat && chat.first_name ? chat.first_name : `User ${chat.id}`,
    ...('username' in chat && chat.username ? { username: chat.username } : {}),
  };
}

export class ChatDirectory {
  private readonly chats = new Map<number, ChatRecord>();

  /** With `acceptAnyChat`, a send to a chat never seen creates it instead of "chat not found". */
  constructor(private readonly acceptAnyChat: boolean) {}

  /** Makes a chat known (idempotent; `info` applies only when the chat is new). */
  add(id: number, info?: ChatInfo): Chat {
    const existing = this.chats.get(id);
    if (existing) return existing.chat;
    const chat = defaultChat(id, info);
    this.chats.set(id, { chat, nextMessageId: 1, messages: new Map() });
    return chat;
  }

  has(id: number): boolean {
    return this.chats.has(id);
  }

  /** Sends to `id` fail with 403 `reason` (the chat becomes known if it was not). */
  block(id: number, reason: ForbiddenReason): void {
    this.add(id);
    this.record(id, 'block').blocked = reason;
  }

  unblock(id: number): void {
    this.record(id, 'unblock').blocked = undefined;
  }

  /** The group `id` became the supergroup `toId`: sends to `id` fail with migrate_to_chat_id. */
  migrate(id: number, toId: number): void {
    this.add(id);
    this.record(id, 'migrate').migratedTo = toId;
    this.add(toId, { type: 'supergroup' });
  }

  /**
   * The chat a send names, checked as Telegram checks it: unknown ("chat not found"), then
   * migrated (400 with migrate_to_chat_id), then blocked (403).
   */
  target(chatId: unknown): Chat {
    const record = this.lookup(chatId);
    if (record.migratedTo !== undefined) throw migrated(record.migratedTo);
    if (record.blocked) throw forbidden(record.blocked);
    return record.chat;
  }

  /** A chat to read from (forward, copy): must exist, may be blocked. */
  source(chatId: unknown): Chat {
    return this.lookup(chatId).chat;
  }

  /** Stores a message with the chat's next id (shared by both directions, as on Telegram). */
  addMessage(chatId: number, build: (messageId: number) => Message): Message {
    const record = this.record(chatId, 'addMessage');
    const message = build(record.nextMessageId);
    record.nextMessageId += 1;
    record.messages.set(message.message_id, message);
    return message;
  }

  message(chatId: number, messageId: unknown): Message | undefined {
    return typeof messageId === 'number'
      ? this.chats.get(chatId)?.messages.get(messageId)
      : undefined;
  }

  /** Removes a message; false when the chat has no such message. */
  deleteMessage(chatId: number, messageId: unknown): boolean {
    return typeof messageId === 'number'
      ? (this.chats.get(chatId)?.messages.delete(messageId) ?? false)
      : false;
  }

  replaceMessage(message: Message): void {
    this.chats.get(message.chat.id)?.messages.set(message.message_id, message);
  }

  private lookup(chatId: unknown): ChatRecord {
    if (chatId === undefined || chatId === '')
      throw new ApiError(400, 'Bad Request: chat_id is empty');
    let id: number | undefined;
    if (typeof chatId === 'number' && Number.isSafeInteger(chatId)) id = chatId;
    else if (typeof chatId === 'string' && /^-?\d+$/.test(chatId)) id = Number(chatId);
    else if (typeof chatId === 'string' && chatId.startsWith('@')) {
      const name = chatId.slice(1).toLowerCase();
      for (const record of this.chats.values()) {
        const username = 'username' in record.chat ? record.chat.username : undefined;
        if (username?.toLowerCase() === name) return record;
      }
      throw chatNotFound();
    }
    if (id === undefined) throw chatNotFound();
    if (!this.chats.has(id) && this.acceptAnyChat) this.add(id);
    const record = this.chats.get(id);
    if (!record) throw chatNotFound();
    return record;
  }

  private record(id: number, action: string): ChatRecord {
    const record = this.chats.get(id);
    if (!record) {
      throw new Error(
        `${action}: chat ${id} is unknown to this bot; add it first (addChat, pushMessage, or the chats option)`,
      );
    }
    return record;
  }
}
