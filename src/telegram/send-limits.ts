/*
 * Telegram's limits for the sender: the default rules, declared for every config with a
 * `telegram` section (the config's own `rateLimits` entries of the same name win), and the
 * middleware that takes the bot's and the chat's tokens in one all-or-none step. Pure: loaded
 * when a config loads.
 *
 * Source: the Bot FAQ, "My bot is hitting limits, how do I avoid this?"
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): avoid
 * more than one message a second to one chat, no more than 20 a minute to one group, and about
 * 30 a second in all for bulk notifications. Telegram publishes no algorithm behind them.
 */
import type { RateLimitSettings } from '../config/define.js';
import { rateLimited } from '../flow/rate-limits/middleware.js';
import type { JobMiddleware } from '../jobs/types.js';

export const GLOBAL_LIMIT = 'telegram.global';
export const CHAT_LIMIT = 'telegram.chat';
export const GROUP_LIMIT = 'telegram.group';

/**
 * The defaults, by name: Telegram's figures with each window 2% longer (30 per 1.02 s, 1 per
 * 1.02 s, 20 per 61.2 s). The limiter spaces sends by when each job takes its token; the time
 * from the take to the request reaching Telegram varies by a few milliseconds between sends
 * (timers, the event loop, the network), so at exactly the limit some sends arrive a hair
 * early, and a strict window (as the fake Bot API keeps, docs/testing-telegram.md) answers 429.
 * The 2% absorbs 20 ms of that per second of window, for 2% of the rate.
 */
export const TELEGRAM_RATE_LIMITS: Readonly<Record<string, RateLimitSettings>> = {
  [GLOBAL_LIMIT]: { limit: 30, per: '1020ms' },
  [CHAT_LIMIT]: { limit: 1, per: '1020ms' },
  [GROUP_LIMIT]: { limit: 20, per: '61200ms' },
};

/**
 * A private chat (a user) has a positive id; groups, supergroups and channels a negative one; a
 * channel may also be named by its @username.
 */
export function isPrivateChat(chatId: string | number): boolean {
  const n = Number(chatId);
  return Number.isFinite(n) && n > 0;
}

/** The limit a chat's sends take besides the bot's. */
export function chatLimitOf(chatId: string | number): string {
  return isPrivateChat(chatId) ? CHAT_LIMIT : GROUP_LIMIT;
}

/**
 * Telegram's spacing of sends to one chat, ms: 1 s for a private chat, 3 s (20 a minute) for
 * a group. A 429 for a chat sent to less than this long before is the chat's own limit.
 */
export function chatSpacingMs(chatId: string | number): number {
  return isPrivateChat(chatId) ? 1000 : 3000;
}

/**
 * The most a send may start after its slot, ms (rateLimited's maxLateMs), or it does not go in
 * it and asks for another. Sends are spaced where they take their slots and counted where they
 * reach Telegram; in between, the storage's answer comes back and the worker waits for a slot
 * booked ahead, each late by a varying amount, most of all in a process that has just started
 * or on a starved CPU: with three senders started together on two busy cores, a take was
 * answered up to 280 ms after it was asked and its send left 350 ms after its slot, and 31
 * sends reached the fake Bot API within 834 ms. The bound keeps a late send from landing on the
 * punctual ones booked after it. 100 ms costs about one take in a hundred on a machine with some
 * headroom and one in seven at a load average of 18; 50 ms cost up to 40% at that load.
 */
export const MAX_LATE_MS = 100;

/** The key of a chat in its limit: chats are limited per bot. */
export function chatKey(botId: string, chatId: string | number): string {
  return `${botId}:${chatId}`;
}

/**
 * The sender's limits: the bot's (key: its id) and the chat's (private or group), all or none,
 * each send starting at most MAX_LATE_MS after its slot. `botIdOf` and `chatOf` read the payload.
 */
export function telegramLimits<P>(
  botIdOf: (payload: P) => string,
  chatOf: (payload: P) => string | number,
): JobMiddleware<P> {
  const uses = (limit: string) =>
    rateLimited<P>(
      [
        { limit: GLOBAL_LIMIT, key: (p) => botIdOf(p) },
        { limit, key: (p) => chatKey(botIdOf(p), chatOf(p)) },
      ],
      { maxLateMs: MAX_LATE_MS },
    );
  const privateChat = uses(CHAT_LIMIT);
  const group = uses(GROUP_LIMIT);
  return function telegramLimitsMiddleware(ctx, next) {
    return isPrivateChat(chatOf(ctx.payload)) ? privateChat(ctx, next) : group(ctx, next);
  };
}
