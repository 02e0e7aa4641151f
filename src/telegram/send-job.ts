/*
 * The built-in `telegram.send` job: one Bot API send (sendMessage by default) under Telegram's
 * limits, shared by every sender process on the storage. Its sibling `telegram.scheduled` sends
 * a row of telegram_scheduled_messages (unique per row, so a dispatch repeated after a crash
 * stores no second job) and writes sent / failed back to the row. What each Bot API error does
 * is in send-errors.ts and docs/telegram.md.
 */
import { channel } from 'node:diagnostics_channel';
import type { Database } from '../db/connection.js';
import { defineJob } from '../jobs/define.js';
import { Permanent, RetryAfter } from '../jobs/errors.js';
import { skipIf } from '../jobs/middleware.js';
import type { JobContext, JobDefinition, JobMiddleware } from '../jobs/types.js';
import { countChat, findChat, markBlocked, markMigrated } from './chats-store.js';
import { classifySend, isBotFlood } from './send-errors.js';
import {
  GLOBAL_LIMIT,
  chatKey,
  chatLimitOf,
  chatSpacingMs,
  telegramLimits,
} from './send-limits.js';
import { DEFAULT_SEND_QUEUE, type BotSettings } from './settings.js';
import { findScheduled, markScheduledFailed, markScheduledSent } from './scheduled-store.js';
import { sendPayloadSchema, type TelegramSendPayload } from './send-payload.js';
import { resolveBot, sendDirect, warmApiFor } from './send-direct.js';
import { TelegramFileError } from './upload.js';

export const SEND_JOB = 'telegram.send';
export const SCHEDULED_JOB = 'telegram.scheduled';

/**
 * Each Bot API send's outcome, `{ ok: true }` or `{ ok: false, reason }` (the failure's kind:
 * flood, blocked, migrated, rejected, transient), for telemetry (src/telemetry/channels.ts
 * subscribes by this name, docs/telemetry.md). Publishing with no subscriber costs nothing.
 */
export const SEND_CHANNEL = channel('jobsmith:telegram:send');

/** How long a scheduled row's unique key holds: longer than any outage. */
const UNIQUE_FOR_S = 30 * 86_400;

export interface SendJobDeps {
  /** The SQL storage, where telegram_chats and telegram_scheduled_messages live. */
  db: () => Promise<Database>;
  bots: () => BotSettings[];
  apiRoot: string;
  queue?: string;
  /** The folders local files are uploaded from (TELEGRAM_UPLOAD_DIRS). @defaultValue the working directory */
  uploadDirs?: string[];
}

const chatOf = (p: TelegramSendPayload) => String(p.params.chat_id);

/** The unique key of a scheduled row's job. */
export function scheduledJobKey(p: TelegramSendPayload): string {
  return `telegram.scheduled:${p.scheduled ?? 'none'}`;
}

/**
 * `telegram.send` and `telegram.scheduled` for a worker with these bots. One job is one Bot API
 * call and takes one token of the bot's and the chat's limits, a sendMediaGroup (an album of 2
 * to 10 messages) included: our assumption, since Telegram's FAQ counts "messages" and does not
 * say how an album counts. Should Telegram count each message of it, its 429 says so and the
 * chat's key waits (below), as for any flood.
 */
export function telegramSendJobs(deps: SendJobDeps): JobDefinition<TelegramSendPayload>[] {
  const botIdOf = (p: TelegramSendPayload) => {
    try {
      return resolveBot(deps.bots(), p.bot).id;
    } catch {
      return p.bot ?? 'unknown';
    }
  };
  const middleware: JobMiddleware<TelegramSendPayload>[] = [
    // Before the limits: a blocked chat or a sent row takes no token.
    skipIf(async (p, ctx) => skipReason(deps, p, botIdOf(p), ctx.jobId)),
    telegramLimits(botIdOf, chatOf),
  ];
  const common = {
    queue: deps.queue ?? DEFAULT_SEND_QUEUE,
    schema: sendPayloadSchema,
    tries: 5,
    backoff: [2, 10, 60, 300],
    timeout: 60,
    middleware,
    handle: (p: TelegramSendPayload, ctx: JobContext) => send(deps, p, ctx),
    async failed(p: TelegramSendPayload, error: Error, ctx: JobContext) {
      if (p.scheduled !== undefined)
        await markScheduledFailed(await deps.db(), p.scheduled, ctx.jobId, error.message);
    },
  };
  return [
    defineJob<TelegramSendPayload>({ name: SEND_JOB, ...common }),
    defineJob<TelegramSendPayload>({
      name: SCHEDULED_JOB,
      ...common,
      unique: { key: scheduledJobKey, for: UNIQUE_FOR_S },
    }),
  ];
}

/**
 * Why the job should not send, or false. Follows a migrated group (rewrites the payload's
 * chat_id before the limits read it). A scheduled row that is not due yet is put back.
 */
async function skipReason(
  deps: SendJobDeps,
  p: TelegramSendPayload,
  botId: string,
  jobId: string,
  hops = 0,
): Promise<string | false> {
  const db = await deps.db();
  const bot = deps.bots().find((b) => b.id === botId);
  // Warm before the limits: a cold first request would arrive late for its slot.
  if (bot) await warmApiFor(bot, deps.apiRoot);
  if (p.scheduled !== undefined) {
    const row = await findScheduled(db, p.scheduled);
    if (!row) return `scheduled message ${p.scheduled} is no longer stored`;
    if (row.status === 'sent') return `scheduled message ${p.scheduled} was already sent`;
    if (row.status === 'cancelled') return `scheduled message ${p.scheduled} was cancelled`;
    const early = row.sendAt - Date.now();
    // Never early, whoever dispatched it: wait for send_at without spending an attempt.
    if (early > 0) throw new RetryAfter(early / 1000);
  }
  const chat = await findChat(db, botId, chatOf(p));
  // A group migrates once, to a supergroup; the bound only guards against a cycle in the table.
  if (chat?.migratedTo && hops < 3) {
    p.params.chat_id = chat.migratedTo;
    return skipReason(deps, p, botId, jobId, hops + 1);
  }
  if (chat?.blockedAt !== null && chat?.blockedAt !== undefined) {
    await countChat(db, botId, chat.chatId, 'skipped');
    const reason = `chat ${chat.chatId} is blocked (${chat.reason ?? 'unknown reason'})`;
    if (p.scheduled !== undefined)
      await markScheduledFailed(db, p.scheduled, jobId, `skipped: ${reason}`);
    return reason;
  }
  return false;
}

async function send(deps: SendJobDeps, p: TelegramSendPayload, ctx: JobContext): Promise<unknown> {
  let bot: BotSettings;
  try {
    bot = resolveBot(deps.bots(), p.bot);
  } catch (error) {
    throw new Permanent((error as Error).message);
  }
  const db = await deps.db();
  const method = p.method ?? 'sendMessage';
  let followed = false;
  for (;;) {
    const chat = chatOf(p);
    try {
      const result = await sendDirect(bot, deps.apiRoot, method, p.params, ctx.signal, {
        dirs: deps.uploadDirs,
      });
      SEND_CHANNEL.publish({ ok: true });
      await countChat(db, bot.id, chat, 'sent');
      if (p.scheduled !== undefined) await markScheduledSent(db, p.scheduled, ctx.jobId);
      return result;
    } catch (error) {
      // A local file that cannot be read: nothing reached Telegram, and a retry would not help.
      if (error instanceof TelegramFileError) {
        SEND_CHANNEL.publish({ ok: false, reason: 'rejected' });
        throw error;
      }
      const failure = classifySend(error);
      SEND_CHANNEL.publish({ ok: false, reason: failure.kind });
      switch (failure.kind) {
        case 'flood': {
          // No attempt spent; every job on the key waits too.
          const last = await findChat(db, bot.id, chat);
          const chatExplains =
            last !== undefined && Date.now() - last.updatedAt < chatSpacingMs(chat);
          const [limit, key] = isBotFlood(bot.id, chat, chatExplains)
            ? [GLOBAL_LIMIT, bot.id]
            : [chatLimitOf(chat), chatKey(bot.id, chat)];
          throw new RetryAfter(failure.retryAfter, {
            limit,
            key,
            message: `${method} to chat ${chat}: ${failure.description}; ${limit} key ${key} waits ${failure.retryAfter}s`,
          });
        }
        case 'blocked':
          await markBlocked(db, bot.id, chat, failure.description);
          throw new Permanent(
            `${method} to chat ${chat}: ${failure.description}; the chat is now marked blocked.`,
          );
        case 'migrated':
          await markMigrated(db, bot.id, chat, failure.to);
          if (followed)
            throw new Permanent(
              `${method} to chat ${chat}: ${failure.description} (again after following one migration).`,
            );
          followed = true;
          p.params.chat_id = failure.to;
          continue;
        case 'rejected':
          await countChat(db, bot.id, chat, 'failed');
          throw new Permanent(`${method} to chat ${chat}: ${failure.description}`);
        default:
          throw new Error(`${method} to chat ${chat}: ${failure.description}`);
      }
    }
  }
}
