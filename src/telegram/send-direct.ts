/*
 * One Bot API call through grammY's raw API, with no limits and no retries: what the sender job
 * does once its limits let it through, and what `run telegram:send --now` does. grammY loads
 * here on first use; one Api per token and API root per process.
 */
import type { Api } from 'grammy';
import { ConfigError } from '../errors.js';
import { ENV_BOT, type BotSettings } from './settings.js';

const apis = new Map<string, Promise<Api>>();

/**
 * The bot's grammY Api, made (and grammY loaded) on first use. The sender awaits it before it
 * takes its limits: the first send of a process would otherwise load grammY between the take
 * and the request, and arrive at Telegram hundreds of ms after its slot.
 */
export function apiFor(bot: BotSettings, apiRoot: string): Promise<Api> {
  const key = `${bot.token}\n${apiRoot}`;
  let api = apis.get(key);
  if (!api) {
    api = import('grammy').then(({ Api: GrammyApi }) => new GrammyApi(bot.token, { apiRoot }));
    apis.set(key, api);
  }
  return api;
}

/** Calls `method` with `params` as bot `bot`; rejects with grammY's GrammyError or HttpError. */
export async function sendDirect(
  bot: BotSettings,
  apiRoot: string,
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<unknown> {
  const api = await apiFor(bot, apiRoot);
  const raw = api.raw as unknown as Record<
    string,
    (params: unknown, signal?: unknown) => Promise<unknown>
  >;
  return raw[method]!(params, signal);
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
