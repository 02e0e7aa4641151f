import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { loadSchedule, openScheduler } from '../src/schedule/open.js';
import { renderScheduler } from '../src/schedule/render.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
/** On a signal, how long running commands get before they are killed. */
const GRACE_MS = 30_000;

export default function command() {
  return newCommand(
    'schedule:run',
    'Run the schedule entries that are due (from cron, every minute)',
    'run schedule:run',
  )
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText(
      'after',
      '\nCrontab: * * * * * cd /srv/app && ./node_modules/.bin/run schedule:run >> storage/logs/schedule.log 2>&1\n' +
        'Each slot fires once even when several hosts run this at the same minute. Exit 1 when an entry that ran failed.\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { entries, file } = await loadSchedule(app);
        if (entries.length === 0) {
          if (!opts.json)
            say(`No schedule entries in ${file ?? 'the config (no jobsmith.config.ts found)'}.`);
          return;
        }
        const json = Boolean(opts.json);
        const { scheduler, clock } = await openScheduler(app, entries, { file, json });
        renderScheduler(scheduler, { json, log: app.fileLog(), clock });
        let events = 0;
        const failed = new Set<string>();
        scheduler.on('entry:started', () => events++);
        scheduler.on('entry:skipped', () => events++);
        scheduler.on('entry:finished', (e) => e.ok || failed.add(e.entry.name));
        const onStop = () => scheduler.stop();
        for (const s of STOP_SIGNALS) process.on(s, onStop);
        try {
          await scheduler.runMinute(GRACE_MS);
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onStop);
        }
        if (events === 0 && !json) say(paint.dim('No schedule entries are due.'));
        if (failed.size > 0 || scheduler.failures > 0) {
          throw new JobsmithError(
            failed.size > 0
              ? `Scheduled run failed: ${[...failed].join(', ')}.`
              : 'The scheduler could not read or write its storage (see the errors above).',
            {
              hint: 'See the lines above and the log file; `run schedule:test NAME` runs one entry again.',
            },
          );
        }
      }),
    );
}
