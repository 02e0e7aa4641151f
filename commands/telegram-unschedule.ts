import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { cancelScheduled } from '../src/telegram/scheduled-store.js';

function ids(values: string[]): number[] {
  return values.map((v) => {
    if (!/^\d{1,15}$/.test(v) || Number(v) === 0)
      throw new UsageError(
        `"${v}" is not a scheduled message id: give the ids run telegram:scheduled lists (whole numbers).`,
      );
    return Number(v);
  });
}

export default function command() {
  return newCommand(
    'telegram:unschedule',
    'Cancel scheduled Telegram messages that have not been sent',
    'run telegram:unschedule 12 13',
  )
    .argument('<id...>', 'ids of scheduled messages (run telegram:scheduled)')
    .option('--json', 'print each id with what happened to it')
    .action(async (values: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const outcomes = await cancelScheduled(await app.db(), ids(values));
        const kept = [...outcomes].filter(([, outcome]) => outcome !== 'cancelled');
        if (opts.json) printJson([...outcomes].map(([id, outcome]) => ({ id, outcome })));
        else
          for (const [id, outcome] of outcomes) {
            if (outcome === 'cancelled')
              say(`${paint.yellow('Cancelled')}  scheduled message ${id}`);
            else if (outcome === 'not-found')
              say(`No scheduled message ${id}: run telegram:scheduled to see the ids.`);
            else
              say(
                `Kept  scheduled message ${id}: it is ${outcome.replace('-', ' ')}; only pending and queued ones can be cancelled.`,
              );
          }
        // Exit 1 when one was kept, as queue:retry does; the lines above say which and why.
        if (kept.length > 0) process.exitCode = 1;
      }),
    );
}
