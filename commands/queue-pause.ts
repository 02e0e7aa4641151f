import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { likelyTypos, usedQueueNames } from '../src/cli/queue-typo.js';
import { setPaused } from '../src/queue/control.js';
import { pausedByHere } from '../src/queue/paused.js';
import { queueArguments } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:pause',
    'Stop workers from taking jobs from queues (kept until queue:resume)',
    'run queue:pause mail',
  )
    .argument('<queues...>', 'queues to pause')
    .action(async (queues: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const names = queueArguments(queues);
        // Read before the pause: once paused, a mistyped name is one of the names in use.
        const typos = likelyTypos(names, await usedQueueNames(app));
        const changed = await setPaused((await app.db()).knex, names, true, pausedByHere());
        for (const q of names) {
          say(changed.includes(q) ? `${paint.yellow('Paused')}  ${q}` : `${q} was already paused.`);
          const near = typos.get(q);
          if (near !== undefined && changed.includes(q)) {
            say(
              paint.yellow(
                `  No job, worker or setting uses a queue named "${q}": did you mean "${near}"? ` +
                  `Undo with: run queue:resume ${q}`,
              ),
            );
          }
        }
        if (changed.length > 0) {
          say(
            paint.dim(
              'Workers stop claiming from paused queues within a second; running jobs finish.',
            ),
          );
        }
      }),
    );
}
