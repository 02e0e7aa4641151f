import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { nearest } from '../src/cli/suggest.js';
import { JobsmithError, UsageError } from '../src/errors.js';
import { loadSchedule, openScheduler } from '../src/schedule/open.js';
import { renderScheduler } from '../src/schedule/render.js';

export default function command() {
  return newCommand(
    'schedule:test',
    'Run one schedule entry now, outside its schedule',
    'run schedule:test nightly-report',
  )
    .argument('<name>', 'the entry, by its name in the schedule')
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText(
      'after',
      '\nwithoutOverlapping still holds: an entry that is running elsewhere is not started (exit 1).\n',
    )
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
        const { entries, file } = await loadSchedule(app);
        const entry = entries.find((e) => e.name === name);
        if (!entry) {
          const names = entries.map((e) => e.name);
          const guess = nearest(name, names);
          throw new UsageError(
            `Unknown schedule entry "${name}".${guess ? ` Did you mean "${guess}"?` : ''}`,
            {
              hint:
                names.length > 0
                  ? `Entries: ${names.join(', ')} (run schedule:list).`
                  : `${file ?? 'The config'} has no schedule entries.`,
            },
          );
        }
        const json = Boolean(opts.json);
        const { scheduler, clock } = await openScheduler(app, [entry], { file, json });
        renderScheduler(scheduler, { json, log: app.fileLog(), clock });
        const onStop = () => scheduler.stop();
        process.on('SIGINT', onStop);
        process.on('SIGTERM', onStop);
        let result;
        try {
          result = await scheduler.runNow(entry);
        } finally {
          process.off('SIGINT', onStop);
          process.off('SIGTERM', onStop);
        }
        if (result.skipped) {
          throw new JobsmithError(`${name} was not run: ${result.detail}.`, {
            hint: 'Wait for the running one to finish; a crashed run frees it when its lease ends.',
          });
        }
        if (!result.ok) throw new JobsmithError(`${name} failed: ${result.detail}.`);
      }),
    );
}
