import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { printJson, printTable, say } from '../src/cli/output.js';
import { scheduleWithRuns } from '../src/schedule/open.js';
import { describeOptions, entryJson, formatInZone } from '../src/schedule/present.js';
import { describeAction } from '../src/schedule/render.js';

export default function command() {
  return newCommand(
    'schedule:list',
    'List the schedule entries with their next run times',
    'run schedule:list --next 3',
  )
    .option(
      '--next <n>',
      'show the next N run times of each entry (at most 100)',
      intFlag('--next', { min: 1, max: 100 }),
      1,
    )
    .option('--json', 'print an array of entries, each with `next` (ISO 8601, UTC)')
    .addHelpText(
      'after',
      "\nTimes are shown in each entry's time zone. Needs no database: it reads the config only.\n",
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { rows, file } = await scheduleWithRuns(app, opts.next);
        if (opts.json) return printJson(rows.map((r) => entryJson(r.entry, r.next)));
        if (rows.length === 0) {
          return say(
            `No schedule entries in ${file ?? 'the config (no jobsmith.config.ts found)'}.`,
          );
        }
        await printTable(
          ['Name', 'Cron', 'Time zone', 'Action', 'Next run', 'Options'],
          rows.flatMap(({ entry, next }) =>
            next.map((at, i) =>
              i === 0
                ? [
                    entry.name,
                    entry.cron,
                    entry.timezone,
                    describeAction(entry),
                    formatInZone(at, entry.timezone),
                    describeOptions(entry),
                  ]
                : ['', '', '', '', formatInZone(at, entry.timezone), ''],
            ),
          ),
        );
      }),
    );
}
