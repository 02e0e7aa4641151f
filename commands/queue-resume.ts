import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { setPaused } from '../src/queue/control.js';
import { queueArguments } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:resume',
    'Let workers take jobs from paused queues again',
    'run queue:resume mail',
  )
    .argument('<queues...>', 'queues to resume')
    .action(async (queues: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const names = queueArguments(queues);
        const changed = await setPaused((await app.db()).knex, names, false);
        for (const q of names) {
          say(
            changed.includes(q)
              ? `${paint.green('Resumed')}  ${q}`
              : `${q} was not paused; nothing to resume.`,
          );
        }
      }),
    );
}
