import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { openAlerts } from '../src/alerts/open.js';

export default function command() {
  return newCommand(
    'alerts:test',
    'Send a test notification of an alert to each of its targets, through the queue',
    'run alerts:test telegram-backlog',
  )
    .argument('<name>', 'the alert, as `run alerts:list` names it')
    .option('--json', 'print the queued jobs as a JSON array')
    .addHelpText(
      'after',
      `
Queues one job per target (telegram.send, mail.send, webhook.post) with a [TEST] message; a
worker of each job's queue sends it. The alert's state is not changed.
`,
    )
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
        const alerts = await openAlerts(app);
        const { sent } = await alerts.test(name);
        if (opts.json) return printJson(sent);
        for (const s of sent)
          say(`Queued ${s.job} job ${s.id} on queue ${s.queue} for ${s.target}.`);
        const queues = [...new Set(sent.map((s) => s.queue))].join(',');
        say(`A worker of each queue sends them (run queue:work --queue ${queues}).`);
      }),
    );
}
