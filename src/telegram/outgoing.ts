/*
 * The seam for calls a handler makes (ctx.reply, ctx.api.sendMessage...). Today they go straight
 * to Telegram through grammY, as the app wrote them. The rate-limited sender (the
 * `telegram.send` job, issue 13's sending part) installs itself here: an API transformer on
 * `bot.api` that turns send methods into `telegram.send` jobs obeying the limits, unless the app
 * asks for direct calls. grammY copies bot.api's transformers onto each update's ctx.api
 * (Bot.handleUpdate), so one transformer here covers every handler.
 */
import type { Bot } from 'grammy';
import type { BotSettings } from './settings.js';

/** Routes a handler Bot's outgoing calls; direct for now (nothing installed). */
export function routeOutgoing(bot: Bot, settings: BotSettings): void {
  void bot;
  void settings;
}
