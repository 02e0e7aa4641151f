import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { firstLine } from '../src/failed/present.js';
import { choiceFlag } from '../src/queue/names.js';
import { chatFlag } from '../src/telegram/cli-input.js';
import { scheduledJson } from '../src/telegram/present.js';
import {
  listScheduled,
  SCHEDULED_STATUSES,
  type ScheduledRow,
} from '../src/telegram/scheduled-store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const preview = (row: ScheduledRow) =>
  firstLine(typeof row.params.text === 'string' ? row.params.text : row.method, 40);

export default function command() {
  return newCommand(
    'telegram:scheduled',
    'List scheduled Telegram messages with their send time and status',
    'run telegram:scheduled --status pending',
  )
    .option(
      '--status <status>',
      `only this status: ${SCHEDULED_STATUSES.join(', ')} (pending and queued list the next first)`,
      choiceFlag('--status', SCHEDULED_STATUSES),
    )
    .option('--chat <id>', 'only this chat id or @channelname', chatFlag)
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--json', 'print an array of messages (with their parameters)')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const rows = await listScheduled(await app.db(), {
          status: opts.status,
          chatId: opts.chat === undefined ? undefined : String(opts.chat),
          limit: opts.limit,
        });
        if (opts.json) return printJson(rows.map(scheduledJson));
        if (rows.length === 0) return say('No scheduled Telegram messages.');
        await printTable(
          ['ID', 'Chat', 'Send at', 'Status', 'Text', 'Job', 'Error'],
          rows.map((r) => [
            r.id,
            r.chatId,
            iso(r.sendAt) ?? '',
            r.status === 'failed' ? paint.red(r.status) : r.status,
            preview(r),
            r.jobId ?? '',
            firstLine(r.error ?? '', 50),
          ]),
        );
      }),
    );
}
