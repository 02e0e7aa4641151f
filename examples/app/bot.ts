// The example app's Telegram bot: ordinary grammY handlers. `run longpoll` stores each update
// and a `telegram.update` job runs it here; every reply becomes a `telegram.send` job
// (telegram.replies: 'queue', the default), so the sender keeps the bot under Telegram's limits.
// A Composer rather than a Bot: jobsmith builds the Bot itself from TELEGRAM_BOT_TOKEN.
import { Composer } from 'grammy';
import { scheduleTelegram } from 'jobsmith/telegram';

export const bot = new Composer();

bot.command('start', (ctx) =>
  ctx.reply('Hi! I echo what you write. Try /remind 5s take a break (units: s, m, h).'),
);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

bot.command('remind', async (ctx) => {
  const match = /^(\d+)([smh])\s+(.+)$/s.exec(ctx.match.trim());
  if (!match) return ctx.reply('Usage: /remind 5s take a break (a number, then s, m or h).');
  const at = Date.now() + Number(match[1]) * UNITS[match[2]];
  // Stored in telegram_scheduled_messages; `run scheduled:dispatch --watch` queues it when due.
  await scheduleTelegram(ctx.chat.id, `⏰ ${match[3]}`, { at });
  // The demo reads the due time back from this line.
  return ctx.reply(`OK, I will remind you at ${new Date(at).toISOString()}.`);
});

bot.on('message:text', (ctx) => ctx.reply(`You said: ${ctx.message.text}`));
