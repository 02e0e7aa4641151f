/*
 * telegram_chats: what the sender learnt about each chat of a bot (migration 0010). Blocked
 * chats are skipped without asking Telegram; migrated groups are sent to their supergroup; the
 * counters say how much went where. One function per statement, for SQLite and PostgreSQL.
 */
import type { Database } from '../db/connection.js';
import { redact } from '../logging/redact.js';
import { storableMessage } from '../util/stored-text.js';

export interface ChatRow {
  bot: string;
  chatId: string;
  blockedAt: number | null;
  reason: string | null;
  migratedTo: string | null;
  sent: number;
  skipped: number;
  failed: number;
  /** When the sender last wrote the row (a send, skip or failure counted; epoch ms). */
  updatedAt: number;
}

const REASON_MAX = 500;

/** The row of (bot, chat), if the sender has written one. */
export async function findChat(
  db: Database,
  bot: string,
  chatId: string,
): Promise<ChatRow | undefined> {
  const row = await db.knex('telegram_chats').where({ bot, chat_id: chatId }).first();
  if (!row) return undefined;
  return {
    bot: row.bot,
    chatId: row.chat_id,
    blockedAt: row.blocked_at === null ? null : Number(row.blocked_at),
    reason: row.reason,
    migratedTo: row.migrated_to,
    sent: Number(row.sent),
    skipped: Number(row.skipped),
    failed: Number(row.failed),
    updatedAt: Number(row.updated_at),
  };
}

type Counter = 'sent' | 'skipped' | 'failed';

/** Creates the row if missing, then applies `set` and adds one to `count` (if given). */
async function upsert(
  db: Database,
  bot: string,
  chatId: string,
  set: Record<string, unknown>,
  count?: Counter,
): Promise<void> {
  const now = Date.now();
  const insert: Record<string, unknown> = { bot, chat_id: chatId, updated_at: now, ...set };
  if (count) insert[count] = 1;
  const merge: Record<string, unknown> = { updated_at: now, ...set };
  if (count) merge[count] = db.knex.raw(`telegram_chats.${count} + 1`);
  await db.knex('telegram_chats').insert(insert).onConflict(['bot', 'chat_id']).merge(merge);
}

/** Counts one send, skip or failure for the chat. */
export function countChat(db: Database, bot: string, chatId: string, what: Counter) {
  return upsert(db, bot, chatId, {}, what);
}

/** Marks the chat blocked (403) with Telegram's reason, and counts the failure. */
export function markBlocked(db: Database, bot: string, chatId: string, reason: string) {
  return upsert(
    db,
    bot,
    chatId,
    { blocked_at: Date.now(), reason: storableMessage(redact(reason), REASON_MAX) },
    'failed',
  );
}

/** Records that the group became a supergroup with id `to` (400 with migrate_to_chat_id). */
export function markMigrated(db: Database, bot: string, chatId: string, to: string) {
  return upsert(db, bot, chatId, { migrated_to: to });
}

/** Forgets that the chat is blocked (the user unblocked the bot). True if it was. */
export async function unblockChat(db: Database, bot: string, chatId: string): Promise<boolean> {
  const n = await db
    .knex('telegram_chats')
    .where({ bot, chat_id: chatId })
    .whereNotNull('blocked_at')
    .update({ blocked_at: null, reason: null, updated_at: Date.now() });
  return n > 0;
}
