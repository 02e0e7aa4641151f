import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { deleteJobs } from '../src/queue/admin/promote-delete.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand('queue:delete', 'Delete waiting jobs by id', 'run queue:delete 42 43')
    .argument('<ids...>', 'job ids')
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print what was deleted, refused and not found as JSON')
    .addHelpText(
      'after',
      '\nDeletes queued jobs (pending or delayed) and frees their unique keys. A job a worker is\n' +
        'running is refused: cancel it with `run queue:cancel ID`. Exit 1 when a job was refused\n' +
        'or an id matches no live job; the others are deleted all the same.\n',
    )
    .action(async (ids: string[], opts) =>
      withApp(globals(opts), async (app) => {
        const driver = await app.queues().get(opts.connection);
        const result = await deleteJobs(driver, ids);
        const { deleted, running, missing } = result;
        if (opts.json) {
          printJson(result);
        } else {
          for (const id of deleted) say(`${paint.yellow('Deleted')}  job ${id}`);
        }
        const problems: string[] = [];
        if (running.length > 0) {
          problems.push(
            `${plural(running.length, 'Job')} ${quoted(running)} ${running.length === 1 ? 'is' : 'are'} in progress and not deleted: cancel ${running.length === 1 ? 'it' : 'them'} with \`run queue:cancel ${running.join(' ')}\`.`,
          );
        }
        if (missing.length > 0) {
          problems.push(
            `No live job with id ${quoted(missing)} on the ${driver.connection} connection.`,
          );
        }
        if (problems.length > 0) {
          throw new JobsmithError(problems.join(' '), {
            hint:
              missing.length > 0
                ? 'Run `run queue:list QUEUE` to see the live jobs.'
                : 'A job in progress ends with its worker; queue:cancel stops it.',
          });
        }
      }),
    );
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function quoted(ids: string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}
