/*
 * Telegram's limits for the sender: the default rules, declared for every config with a
 * `telegram` section (the config's own `rateLimits` entries of the same name win), and the
 * middleware that takes the bot's and the chat's tokens in one all-or-none step. Pure: loaded
 * when a config loads.
 *
 * Source: the Bot FAQ, "My bot is hitting limits, how do I avoid this?"
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one
 * message a second to one chat, 20 a minute to one group, about 30 a second in all.
 */
import type { RateLimitSettings } from '../config/define.js';
import { rateLimited } from '../flow/rate-limits/middleware.js';
import type { JobMiddleware } from '../jobs/types.js';

export const GLOBAL_LIMIT = 'telegram.global';
export const CHAT_LIMIT = 'telegram.chat';
export const GROUP_LIMIT = 'telegram.group';

/** The defaults, by name. */
export const TELEGRAM_RATE_LIMITS: Readonly<Record<string, RateLimitSettings>> = {
  [GLOBAL_LIMIT]: { limit: 30, per: '1s' },
  [CHAT_LIMIT]: { limit: 1, per: '1s' },
  [GROUP_LIMIT]: { limit: 20, per: '1m' },
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

/** The key of a chat in its limit: chats are limited per bot. */
export function chatKey(botId: string, chatId: string | number): string {
  return `${botId}:${chatId}`;
}

/**
 * The sender's limits: the bot's (key: its id) and the chat's (private or group), all or none.
 * `botIdOf` and `chatOf` read the payload.
 */
export function telegramLimits<P>(
  botIdOf: (payload: P) => string,
  chatOf: (payload: P) => string | number,
): JobMiddleware<P> {
  const uses = (limit: string) =>
    rateLimited<P>([
      { limit: GLOBAL_LIMIT, key: (p) => botIdOf(p) },
      { limit, key: (p) => chatKey(botIdOf(p), chatOf(p)) },
    ]);
  const privateChat = uses(CHAT_LIMIT);
  const group = uses(GROUP_LIMIT);
  return function telegramLimitsMiddleware(ctx, next) {
    return isPrivateChat(chatOf(ctx.payload)) ? privateChat(ctx, next) : group(ctx, next);
  };
}
