import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { chatFlag, messageFlags, senderJob } from '../src/telegram/cli-input.js';
import { insertScheduled } from '../src/telegram/scheduled-store.js';
import { pickBot, telegramBots } from '../src/telegram/settings.js';
import { parseIn, parseWhen } from '../src/telegram/when.js';

export default function command() {
  return newCommand(
    'telegram:schedule',
    'Schedule a Telegram message for a time; run scheduled:dispatch queues it when due',
    'run telegram:schedule --chat 42 --text "Standup" --at 2026-12-01T09:00:00Z',
  )
    .option('--chat <id>', 'chat id (negative for groups and channels) or @channelname', chatFlag)
    .option('--text <text>', 'the message text (at most 4096 characters)')
    .option('--at <time>', 'when: an ISO 8601 time with its offset (2026-12-01T09:00:00Z)')
    .option('--in <duration>', 'when, as a delay from now: 90s, 5m, 2h, 1d')
    .option('--bot <name>', 'the bot (its name in the config, or its id); default: the only bot')
    .option('--json', 'print the stored message as JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { chat, text } = messageFlags(opts);
        if ((opts.at === undefined) === (opts.in === undefined))
          throw new UsageError('Give exactly one of --at TIME (ISO 8601) or --in DELAY (5m).');
        const now = Date.now();
        const when = opts.at !== undefined ? parseWhen(opts.at, now) : parseIn(opts.in, now);
        if (typeof when === 'string')
          throw new UsageError(`${opts.at !== undefined ? '--at' : '--in'}: ${when}`);
        const bot = pickBot(telegramBots(app.env, (await app.config()).config.telegram), opts.bot);
        // The same check as the workers': a config that could never send it is refused now.
        await senderJob(app);
        const params = { chat_id: chat, text };
        const id = await insertScheduled(await app.db(), {
          bot: bot.name,
          chatId: chat,
          method: 'sendMessage',
          params,
          sendAt: when,
        });
        const sendAt = new Date(when).toISOString();
        if (opts.json)
          return printJson({ id, bot: bot.name, chatId: String(chat), sendAt, status: 'pending' });
        say(
          `Scheduled message ${id} for chat ${chat} at ${sendAt}${when < now ? ' (already due)' : ''}; run scheduled:dispatch queues it when due.`,
        );
      }),
    );
}
