import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';
import { breakerReport } from '../src/flow/breakers/report.js';
import { connectionFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'breaker:reset',
    'Close a circuit breaker and forget its failures',
    'run breaker:reset openai',
  )
    .argument('<name>', 'the breaker, as its jobs name it')
    .option(
      '--connection <name>',
      'queue connection whose storage holds the breakers (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
        const { config } = await app.config();
        const store = (await app.queues().get(opts.connection)).flow().breakers;
        const known = (await breakerReport(config.jobs ?? [], store)).map((r) => r.name);
        if (!known.includes(name)) {
          throw new UsageError(
            `No circuit breaker named "${name}". ${known.length ? `Known: ${known.join(', ')}.` : 'No job declares one and none is stored.'}`,
            { hint: 'Run `run breaker:list` to see the breakers.' },
          );
        }
        const stored = await store.reset(name);
        say(
          stored
            ? `${paint.green('Closed')}  breaker ${name}: its jobs run again; its failures are forgotten.`
            : `Breaker ${name} is closed already (nothing stored).`,
        );
      }),
    );
}
