/*
 * Telling the pipeline's admin: a Telegram message to PIPELINE_ADMIN_CHAT through jobsmith's
 * sender (a `telegram.send` job on the publish queue, under Telegram's limits), and a log line
 * either way. Without PIPELINE_ADMIN_CHAT the log line is all.
 */
import type { JobContext } from 'jobsmith';
import { telegramSend } from 'jobsmith/telegram';
import { QUEUES, settings } from './settings.js';

/** Where the sender's jobs go (the config's telegram.sendQueue). */
export const SEND_QUEUE = QUEUES.publish;

/**
 * Sends `text` to the admin chat and logs it at `level`. A failed dispatch is logged, not
 * thrown: a notice is never worth failing the job that sends it.
 */
export async function notifyAdmin(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  text: string,
  level: 'info' | 'warn' | 'error' = 'warn',
): Promise<void> {
  ctx.log[level](`pipeline: ${text}`);
  const chat = settings().adminChat;
  if (!chat) return;
  try {
    const chatId = /^-?\d+$/.test(chat) ? Number(chat) : chat;
    await ctx.dispatch(telegramSend, { params: { chat_id: chatId, text } }, { queue: SEND_QUEUE });
  } catch (error) {
    ctx.log.error(`pipeline: could not notify ${chat}: ${(error as Error)?.message ?? error}`);
  }
}
