/*
 * Which bots exist and how to reach Telegram: the `telegram` section of the config, checked when
 * the config loads, and the bots it names together with TELEGRAM_BOT_TOKEN. Pure: no grammY
 * here, so loading a config never loads it.
 */
import type { Env } from '../config/env.js';
import { TELEGRAM_TOKEN_HELP, TELEGRAM_TOKEN_SHAPE } from '../config/env.js';
import type { TelegramConfig } from '../config/define.js';
import { ConfigError, UsageError } from '../errors.js';
import { queueNameProblem } from '../jobs/limits.js';
import { maskValues } from '../logging/redact.js';

/** Queue of the `telegram.update` jobs unless the config names another. */
export const DEFAULT_UPDATES_QUEUE = 'telegram-updates';

/** Queue of the sender's jobs unless the config names another (`telegram.sendQueue`). */
export const DEFAULT_SEND_QUEUE = 'telegram';

/** The bot TELEGRAM_BOT_TOKEN defines. */
export const ENV_BOT = 'default';

const BOT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const FIELDS = new Set(['bots', 'handler', 'updatesQueue', 'sendQueue', 'replies']);

/** One bot: its name in the config, its token and its id (the token's digits before `:`). */
export interface BotSettings {
  name: string;
  token: string;
  /** The bot's id as Telegram gives it, the key of its rows in telegram_updates. */
  id: string;
  /** Where the token came from, for messages: `TELEGRAM_BOT_TOKEN` or `telegram.bots.NAME.token`. */
  source: string;
}

/** The bot id a token carries (the digits before `:`). */
export function botIdOf(token: string): string {
  return token.slice(0, token.indexOf(':'));
}

/**
 * Checks the config's `telegram` section; `fail` throws the config's error with the problem.
 * Called by loadConfig.
 */
export function checkTelegramConfig(value: unknown, fail: (problem: string) => never): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('`telegram` must be an object: { bots: { name: { token } }, handler }.');
  const config = value as Record<string, unknown>;
  const unknown = Object.keys(config).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0)
    fail(
      `unknown field ${unknown.map((k) => `"telegram.${k}"`).join(', ')}; the fields are ${[...FIELDS].join(', ')}.`,
    );
  const { bots, handler, updatesQueue, sendQueue, replies } = config;
  if (bots !== undefined) {
    if (typeof bots !== 'object' || bots === null || Array.isArray(bots))
      fail('`telegram.bots` must be an object keyed by bot name: { support: { token } }.');
    for (const [name, bot] of Object.entries(bots as Record<string, unknown>)) {
      if (!BOT_NAME.test(name))
        fail(
          `telegram.bots: the name ${JSON.stringify(name)} is not valid; use letters, digits and . _ - (at most 64).`,
        );
      const token = (bot as { token?: unknown } | null)?.token;
      if (typeof token !== 'string' || !TELEGRAM_TOKEN_SHAPE.test(token)) {
        // The token is masked by pattern when printed, but a malformed one may not be: say
        // what is wrong without quoting it.
        fail(
          `telegram.bots.${name}.token is ${token === undefined ? 'missing' : 'not valid'}; expected ${TELEGRAM_TOKEN_HELP}.`,
        );
      }
      maskValues([token as string]);
    }
  }
  if (
    handler !== undefined &&
    (typeof handler !== 'object' ||
      handler === null ||
      typeof (handler as { middleware?: unknown }).middleware !== 'function')
  )
    fail('`telegram.handler` must be a grammY Bot or Composer (new Bot(token) or new Composer()).');
  for (const [field, queue] of [
    ['updatesQueue', updatesQueue],
    ['sendQueue', sendQueue],
  ] as const) {
    if (queue === undefined) continue;
    const problem = queueNameProblem(queue, `telegram.${field}`);
    if (problem) fail(`${problem}.`);
  }
  if (replies !== undefined && replies !== 'queue' && replies !== 'direct')
    fail(
      `telegram.replies must be 'queue' (replies go through the rate-limited sender) or 'direct' (grammY sends them at once), got ${JSON.stringify(replies)}.`,
    );
}

/** Every bot: the config's, and `default` from TELEGRAM_BOT_TOKEN (the config's may not reuse the name). */
export function telegramBots(env: Env, config: TelegramConfig | undefined): BotSettings[] {
  const bots: BotSettings[] = [];
  if (env.TELEGRAM_BOT_TOKEN) {
    bots.push({
      name: ENV_BOT,
      token: env.TELEGRAM_BOT_TOKEN,
      id: botIdOf(env.TELEGRAM_BOT_TOKEN),
      source: 'TELEGRAM_BOT_TOKEN',
    });
  }
  for (const [name, { token }] of Object.entries(config?.bots ?? {})) {
    if (name === ENV_BOT && env.TELEGRAM_BOT_TOKEN) {
      throw new ConfigError(
        `Two bots are named "${ENV_BOT}": TELEGRAM_BOT_TOKEN defines it, and so does telegram.bots.${ENV_BOT}.`,
        { hint: `Rename the config's bot, or unset TELEGRAM_BOT_TOKEN.` },
      );
    }
    bots.push({ name, token, id: botIdOf(token), source: `telegram.bots.${name}.token` });
  }
  return bots;
}

/**
 * The bot `--bot NAME` picks, or the only bot there is.
 * @throws ConfigError when no bot is configured; UsageError for an unknown or missing --bot.
 */
export function pickBot(bots: BotSettings[], name: string | undefined): BotSettings {
  if (bots.length === 0) {
    throw new ConfigError('TELEGRAM_BOT_TOKEN is not set, and the config names no telegram.bots.', {
      hint: 'Set TELEGRAM_BOT_TOKEN (in the environment or .env) to the token @BotFather gave you.',
    });
  }
  if (name === undefined) {
    if (bots.length === 1) return bots[0]!;
    throw new UsageError(
      `There are ${bots.length} bots (${bots.map((b) => b.name).join(', ')}); say which with --bot NAME.`,
    );
  }
  const bot = bots.find((b) => b.name === name);
  if (!bot)
    throw new UsageError(
      `--bot ${name}: no such bot; the bots are ${bots.map((b) => b.name).join(', ')}.`,
      { hint: 'Name bots in the config (telegram.bots) or set TELEGRAM_BOT_TOKEN for "default".' },
    );
  return bot;
}

/** The send jobs' queue the config names, else the default. */
export function sendQueue(config: TelegramConfig | undefined): string {
  return config?.sendQueue ?? DEFAULT_SEND_QUEUE;
}

/** The `telegram.update` queue the config names, else the default. */
export function updatesQueue(config: TelegramConfig | undefined): string {
  return config?.updatesQueue ?? DEFAULT_UPDATES_QUEUE;
}
