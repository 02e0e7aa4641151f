import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'limits:reset',
    'Forget the state of a rate limit, or of one of its keys',
    'run limits:reset telegram.chat 12345',
  )
    .argument('<name>', 'the limit, as the config names it')
    .argument('[key]', 'only this key (default: every key, and a push-back of the whole limit)')
    .option(
      '--connection <name>',
      'queue connection whose storage holds the limits (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .addHelpText(
      'after',
      '\nJobs already put back keep their time; they run then, and the key has its full room.\n',
    )
    .action(async (name: string, key: string | undefined, opts) =>
      withApp(globals(opts), async (app) => {
        const { rateLimits } = await app.config();
        if (!rateLimits.has(name)) {
          const known = [...rateLimits.keys()];
          throw new UsageError(
            `Unknown rate limit "${name}"; ${known.length > 0 ? `the config declares: ${known.join(', ')}` : 'the config declares none'}.`,
            { hint: 'Run limits:list to see them.' },
          );
        }
        const driver = await app.queues().get(opts.connection);
        await driver.flow().rateLimits.reset(name, key);
        say(
          key === undefined
            ? `Reset rate limit ${name}: every key, and its push-back.`
            : `Reset rate limit ${name} for key ${key}.`,
        );
      }),
    );
}
