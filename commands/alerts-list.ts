import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { formatValue } from '../src/alerts/messages.js';
import { alertJson, cooldownCell, sinceCell, stateCell } from '../src/alerts/render.js';
import { configuredAlerts } from '../src/alerts/settings.js';
import { readStates } from '../src/alerts/store.js';
import { shownTarget } from '../src/alerts/targets.js';

export default function command() {
  return newCommand(
    'alerts:list',
    "List the config's alerts with their condition, targets and last known state",
    'run alerts:list --json',
  )
    .option('--json', 'print the alerts as a JSON array')
    .addHelpText(
      'after',
      `
Shows the state the last check stored (run alerts:check evaluates the conditions). Webhook
targets are shown by their origin only: their path holds their secret.
`,
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { config } = await app.config();
        const alerts = configuredAlerts(config.alerts);
        const states =
          alerts.length === 0
            ? new Map()
            : await readStates(
                (await app.db()).knex,
                alerts.map((a) => a.name),
              );
        if (opts.json) return printJson(alerts.map((a) => alertJson(a, states.get(a.name))));
        if (alerts.length === 0)
          return say(
            "The config has no alerts: add alerts: [{ name, when, notify }] to defineConfig (conditions from 'jobsmith/alerts'; see docs/telemetry.md#alerts).",
          );
        const now = Date.now();
        await printTable(
          ['Alert', 'Condition', 'Notify', 'Cooldown', 'State', 'Value', 'For', 'Last notified'],
          alerts.map((a) => {
            const row = states.get(a.name);
            return [
              a.name,
              a.description,
              a.targets.map((t) => shownTarget(t.text)).join(', '),
              cooldownCell(a),
              stateCell(row),
              row ? formatValue(a.condition, row.lastValue) : '',
              sinceCell(row, now, a),
              row?.lastNotifiedAt ? new Date(row.lastNotifiedAt).toISOString() : paint.dim('never'),
            ];
          }),
        );
      }),
    );
}
