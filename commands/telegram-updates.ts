import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { firstLine } from '../src/failed/present.js';
import { choiceFlag } from '../src/queue/names.js';
import { botIdOf, pickBot, telegramBots } from '../src/telegram/settings.js';
import { listUpdates, UPDATE_STATUSES, type UpdateRow } from '../src/telegram/updates-store.js';

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

function json(row: UpdateRow) {
  return {
    id: row.id,
    bot: row.bot,
    updateId: row.updateId,
    type: row.type,
    chatId: row.chatId,
    status: row.status,
    receivedAt: iso(row.receivedAt),
    handledAt: row.handledAt === null ? null : iso(row.handledAt),
    jobId: row.jobId,
    error: row.error,
    update: JSON.parse(row.update) as unknown,
  };
}

export default function command() {
  return newCommand(
    'telegram:updates',
    'List stored Telegram updates, newest first, with their status and error',
    'run telegram:updates --status failed --json',
  )
    .option(
      '--status <status>',
      `only this status: ${UPDATE_STATUSES.join(', ')}`,
      choiceFlag('--status', UPDATE_STATUSES),
    )
    .option('--bot <name>', 'only this bot (its name, or its id)')
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--json', 'print an array of updates (with the update itself)')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        let bot: string | undefined;
        if (opts.bot !== undefined) {
          // A name needs the config and must be one of its bots (as longpoll and telegram:send
          // say); an id does not (rows of a bot no longer configured).
          bot = /^\d+$/.test(opts.bot)
            ? opts.bot
            : botIdOf(
                pickBot(telegramBots(app.env, (await app.config()).config.telegram), opts.bot)
                  .token,
              );
        }
        const rows = await listUpdates(await app.db(), {
          status: opts.status,
          bot,
          limit: opts.limit,
        });
        if (opts.json) return printJson(rows.map(json));
        if (rows.length === 0) return say('No Telegram updates stored.');
        await printTable(
          ['ID', 'Bot', 'Update', 'Type', 'Chat', 'Status', 'Received at', 'Job', 'Error'],
          rows.map((r) => [
            r.id,
            r.bot,
            r.updateId,
            r.type,
            r.chatId ?? '',
            r.status === 'failed' ? paint.red(r.status) : r.status,
            iso(r.receivedAt),
            r.jobId ?? '',
            firstLine(r.error ?? '', 60),
          ]),
        );
      }),
    );
}
