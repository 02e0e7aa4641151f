/*
 * The grammY Bot a `telegram.update` job runs an update through: one per bot token and
 * process, made on first use, that runs the config's handler (a Bot or a Composer) as its
 * middleware. jobsmith makes it, rather than using the app's Bot as is, so that the update's own
 * bot answers (a config with several bots and one handler), TELEGRAM_API_ROOT applies, and
 * errors reach the job (Bot.handleUpdate rethrows them; the app's bot.catch() is for its own
 * polling). grammY loads here, and only here, when the first update is handled.
 */
import type { Bot } from 'grammy';
import type { TelegramHandler } from '../config/define.js';
import { routeOutgoing, type OutgoingRoute } from './outgoing.js';
import type { BotSettings } from './settings.js';

const bots = new Map<string, Promise<Bot>>();

/** The Bot for `settings` that runs `handler`, with its bot info (getMe, once per process). */
export function handlerBot(
  settings: BotSettings,
  handler: TelegramHandler,
  apiRoot: string,
  replies: OutgoingRoute | undefined,
  signal?: AbortSignal,
): Promise<Bot> {
  const key = `${settings.token}\n${apiRoot}`;
  let made = bots.get(key);
  if (!made) {
    made = makeBot(settings, handler, apiRoot, replies, signal);
    bots.set(key, made);
    // A getMe that failed (network down) is tried again by the next job, not cached.
    made.catch(() => {
      if (bots.get(key) === made) bots.delete(key);
    });
  }
  return made;
}

async function makeBot(
  settings: BotSettings,
  handler: TelegramHandler,
  apiRoot: string,
  replies: OutgoingRoute | undefined,
  signal?: AbortSignal,
): Promise<Bot> {
  const { Bot } = await import('grammy');
  const bot = new Bot(settings.token, { client: { apiRoot } });
  // An app's Bot may carry API transformers (auto-retry, a throttler): keep them for replies.
  const own = (handler as { api?: { config?: { installedTransformers?: () => unknown[] } } }).api
    ?.config?.installedTransformers;
  if (typeof own === 'function') {
    const transformers = own.call((handler as unknown as Bot).api.config);
    if (transformers.length > 0)
      bot.api.config.use(...(transformers as Parameters<typeof bot.api.config.use>));
  }
  if (replies) routeOutgoing(bot, settings, replies);
  bot.use(handler as Parameters<typeof bot.use>[0]);
  // grammY types its signal as the abort-controller package's; Node's works the same.
  await bot.init(signal as unknown as Parameters<typeof bot.init>[0]);
  return bot;
}

/** The error a handler threw, out of grammY's BotError wrapper. */
export function handlerError(error: unknown): Error {
  const inner = (error as { name?: string; error?: unknown }).error;
  const unwrapped = (error as { name?: string }).name === 'BotError' ? inner : error;
  return unwrapped instanceof Error ? unwrapped : new Error(String(unwrapped));
}
