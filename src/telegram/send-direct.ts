/*
 * One Bot API call through grammY's raw API, with no limits and no retries: what the sender job
 * does once its limits let it through, and what `run telegram:send --now` does. grammY loads
 * here on first use; one Api per token and API root per process.
 */
import type { Api } from 'grammy';
import { ConfigError } from '../errors.js';
import { ENV_BOT, type BotSettings } from './settings.js';
import { withUploads, type UploadOptions } from './upload.js';

const apis = new Map<string, Promise<Api>>();
const warm = new Map<string, Promise<Api>>();

/** The longest a warm-up waits for its answer before the sender goes on without it. */
const WARM_UP_TIMEOUT_MS = 5_000;

const keyOf = (bot: BotSettings, apiRoot: string) => `${bot.token}\n${apiRoot}`;

/** The bot's grammY Api, made (and grammY loaded) on first use. */
export function apiFor(bot: BotSettings, apiRoot: string): Promise<Api> {
  const key = keyOf(bot, apiRoot);
  let api = apis.get(key);
  if (!api) {
    api = import('grammy').then(({ Api: GrammyApi }) => new GrammyApi(bot.token, { apiRoot }));
    apis.set(key, api);
  }
  return api;
}

/**
 * The bot's Api once one request (getMe) has been through it, made once per process: the sender
 * awaits it before it takes its limits. A fresh process's first request is slow in ways its slot
 * does not allow for: grammY loads, its HTTP code runs for the first time, the first connection
 * opens (TCP, and TLS to api.telegram.org). A send that booked its slot first and paid for all
 * that after arrived at Telegram hundreds of ms late, in a bunch with the sends of warm
 * processes booked after it: 31 arrivals within a second. Whatever getMe answers is ignored (a
 * wrong token or an unreachable Telegram: the send itself says so), and after
 * WARM_UP_TIMEOUT_MS the sender goes on without it.
 */
export function warmApiFor(bot: BotSettings, apiRoot: string): Promise<Api> {
  const key = keyOf(bot, apiRoot);
  let api = warm.get(key);
  if (!api) {
    api = apiFor(bot, apiRoot).then(async (made) => {
      // grammY types its signal as the abort-controller package's; Node's is the same at run time.
      const signal = AbortSignal.timeout(WARM_UP_TIMEOUT_MS) as unknown as Parameters<
        Api['getMe']
      >[0];
      await made.getMe(signal).catch(() => undefined);
      return made;
    });
    warm.set(key, api);
  }
  return api;
}

/**
 * Calls `method` with `params` as bot `bot` and resolves with Telegram's result (a Message; an
 * array of them for sendMediaGroup; `true` for deleteMessages). A local file (`{ path,
 * filename? }`, upload.ts) is uploaded as multipart. Rejects with grammY's GrammyError (Telegram
 * answered an error) or HttpError (the network), or TelegramFileError (a local file is missing,
 * unreadable, or outside `uploads.dirs`: by default the working directory) before anything is
 * sent.
 */
export async function sendDirect(
  bot: BotSettings,
  apiRoot: string,
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
  uploads?: UploadOptions,
): Promise<unknown> {
  const api = await apiFor(bot, apiRoot);
  const raw = api.raw as unknown as Record<
    string,
    (params: unknown, signal?: unknown) => Promise<unknown>
  >;
  return raw[method]!(await withUploads(params, uploads), signal);
}

/**
 * The bot a payload names: by config name or by id; none named: the only bot, or `default`.
 * @throws ConfigError when none matches, saying which bots there are.
 */
export function resolveBot(bots: BotSettings[], name: string | undefined): BotSettings {
  const names = bots.map((b) => b.name).join(', ') || 'none';
  if (bots.length === 0)
    throw new ConfigError(
      'No Telegram bot is configured: set TELEGRAM_BOT_TOKEN, or name bots in the config (telegram.bots).',
    );
  if (name === undefined) {
    const only = bots.length === 1 ? bots[0] : bots.find((b) => b.name === ENV_BOT);
    if (only) return only;
    throw new ConfigError(
      `There are ${bots.length} bots (${names}); the message must name one (bot).`,
    );
  }
  const bot = bots.find((b) => b.name === name || b.id === name);
  if (!bot)
    throw new ConfigError(`No bot is named or has the id "${name}"; the bots are ${names}.`);
  return bot;
}
