import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { requestRestart } from '../src/queue/control.js';

export default function command() {
  return newCommand(
    'queue:restart',
    'Ask every worker to exit after its current jobs (supervisor starts new code)',
    'run queue:restart',
  ).action(async (opts) =>
    withApp(globals(opts), async (app) => {
      await requestRestart((await app.db()).knex);
      say('Restart requested: every running worker exits (code 0) after its current jobs.');
      say(paint.dim('Run workers under supervisor (or systemd) so that they start again.'));
    }),
  );
}
