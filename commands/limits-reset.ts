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
      '\nJobs already put back keep their time; they run then, and the key has its full room.\nA key (or limit) with no stored state is left as it is: the command says so and exits 0.\n',
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
        const forgot = await driver.flow().rateLimits.reset(name, key);
        // Nothing stored is not an error: the key already has its full room (exit 0, as
        // Laravel's RateLimiter::clear), but say so rather than claim a reset.
        if (key === undefined)
          say(
            forgot
              ? `Reset rate limit ${name}: every key, and its push-back.`
              : `Rate limit ${name} has no stored state: nothing to reset.`,
          );
        else
          say(
            forgot
              ? `Reset rate limit ${name} for key ${key}.`
              : `Rate limit ${name} has no stored state for key ${key}: nothing to reset.`,
          );
      }),
    );
}
