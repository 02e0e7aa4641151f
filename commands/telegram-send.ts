import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { chatFlag, messageFlags, senderJob } from '../src/telegram/cli-input.js';
import { sendDirect } from '../src/telegram/send-direct.js';
import { TelegramTokenError } from '../src/telegram/errors.js';
import { classifySend } from '../src/telegram/send-errors.js';
import { pickBot, telegramBots } from '../src/telegram/settings.js';

export default function command() {
  return newCommand(
    'telegram:send',
    'Send a Telegram message through the rate-limited sender queue (--now: at once)',
    'run telegram:send --chat 42 --text "Deploy finished"',
  )
    .option('--chat <id>', 'chat id (negative for groups and channels) or @channelname', chatFlag)
    .option('--text <text>', 'the message text (at most 4096 characters)')
    .option('--bot <name>', 'the bot (its name in the config, or its id); default: the only bot')
    .option('--now', 'send directly, outside the queue and its limits, and print the result')
    .option('--json', 'print the job (or with --now, the sent message) as JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { chat, text } = messageFlags(opts);
        const bot = pickBot(telegramBots(app.env, (await app.config()).config.telegram), opts.bot);
        if (opts.now) {
          let result: { message_id?: number };
          try {
            result = (await sendDirect(bot, app.env.TELEGRAM_API_ROOT, 'sendMessage', {
              chat_id: chat,
              text,
            })) as { message_id?: number };
          } catch (error) {
            const failure = classifySend(error);
            // 401, or 404 for a token Telegram does not know: the token is wrong, not the chat.
            if (failure.kind === 'rejected' && (failure.code === 401 || failure.code === 404))
              throw new TelegramTokenError(bot, failure.description.replace(/^\d+ /, ''));
            throw new JobsmithError(
              `Telegram did not take the message to chat ${chat}: ${failure.description}.`,
            );
          }
          if (opts.json) return printJson(result);
          return say(
            `Sent message ${result.message_id ?? '?'} to chat ${chat} as bot ${bot.name}.`,
          );
        }
        const job = await senderJob(app, '--now');
        const dispatched = await app
          .dispatcher()
          .dispatch(job, { bot: bot.name, method: 'sendMessage', params: { chat_id: chat, text } });
        if (opts.json) return printJson({ id: dispatched.id, queue: job.queue, chatId: chat });
        say(
          `Queued telegram.send job ${dispatched.id} on queue ${job.queue} for chat ${chat}; a worker sends it (run queue:work --queue ${job.queue}).`,
        );
      }),
    );
}
