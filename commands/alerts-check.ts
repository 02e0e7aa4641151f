import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { openAlerts } from '../src/alerts/open.js';
import {
  changeLine,
  logResult,
  resultJson,
  sinceCell,
  stateCell,
  valueCell,
} from '../src/alerts/render.js';

export default function command() {
  return newCommand(
    'alerts:check',
    'Check every alert once and notify those that fired or resolved; exit 1 while one fires (for cron)',
    'run alerts:check',
  )
    .option('--json', 'print { checked_at, firing, alerts: [...] } instead of a table')
    .addHelpText(
      'after',
      `
Run it from cron every minute (* * * * * run alerts:check), or let schedule:work check once a
minute. An alert notifies its targets once when it fires and once when it resolves, through the
queue (telegram.send, mail.send, webhook.post jobs); its state is kept in alert_states, so
checks on several hosts at once, or after a restart, notify once.

Exit codes: 0 no alert fires; 1 an alert fires, one could not be checked, or a notification
could not be queued (a later check queues it).
`,
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const alerts = await openAlerts(app);
        if (alerts.alerts.length === 0) {
          if (opts.json) return printJson({ checked_at: null, firing: [], alerts: [] });
          return say('The config has no alerts; nothing to check.');
        }
        const { now, results } = await alerts.check();
        const log = app.log();
        for (const r of results) logResult(log, r);
        const firing = results.filter((r) => r.row.state === 'firing').map((r) => r.alert.name);
        const failed = results.filter((r) => r.error).map((r) => r.alert.name);
        const unsent = results.filter((r) => r.notifyError).map((r) => r.alert.name);
        if (firing.length + failed.length + unsent.length > 0) process.exitCode = 1;
        if (opts.json)
          return printJson({
            checked_at: new Date(now).toISOString(),
            firing,
            alerts: results.map(resultJson),
          });
        await printTable(
          ['Alert', 'State', 'Value', 'Condition', 'For'],
          results.map((r) => [
            r.alert.name,
            stateCell(r.row),
            valueCell(r.alert, r),
            r.alert.description,
            sinceCell(r.row, now, r.alert),
          ]),
        );
        for (const r of results) {
          const line = changeLine(r);
          if (line) say(line);
        }
        if (failed.length > 0)
          say(paint.red(`Not checked: ${failed.join(', ')} (see the error above).`));
        say(
          firing.length > 0
            ? paint.red(`Firing: ${firing.join(', ')}.`)
            : paint.green(`No alert fires (${results.length} checked).`),
        );
      }),
    );
}
