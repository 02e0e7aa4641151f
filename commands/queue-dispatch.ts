import { readFileSync } from 'node:fs';
import { withApp, type App } from '../src/cli/app.js';
import {
  dateFlag,
  durationFlag,
  globals,
  newCommand,
  priorityFlag,
  tagsFlag,
  triesFlag,
} from '../src/cli/command.js';
import { dispatchFromStdin, printResults } from '../src/cli/bulk-dispatch.js';
import { nearest } from '../src/cli/suggest.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { prepareJob } from '../src/jobs/prepare.js';
import type { NewJob } from '../src/queue/driver.js';
import { connectionFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:dispatch',
    'Dispatch a job from the shell',
    `run queue:dispatch digest.send --payload '{"userId":1}'`,
  )
    .argument('[name]', 'job name, as registered in the config (with --chain: optional)')
    .option('--payload <json>', 'payload as JSON')
    .option('--payload-file <file>', 'read the payload (JSON) from a file')
    .option('--queue <queue>', "queue (default: the job's queue)", queueFlag('--queue'))
    .option(
      '--delay <duration>',
      'wait this long before the job may run (at most 100 years)',
      durationFlag('--delay', { allowZero: true, stored: true }),
    )
    .option(
      '--at <iso>',
      'do not run before this moment (ISO 8601); not with --delay',
      dateFlag('--at'),
    )
    .option(
      '--priority <n>',
      'higher runs first within the queue (-1048575 to 1048575)',
      priorityFlag('--priority'),
    )
    .option('--tries <n>', 'attempts in all (1 to 1000000)', triesFlag('--tries'))
    .option(
      '--tag <tag>',
      "a tag to find the job by (queue:list --tag); repeat for more, added to the job's own tags",
      tagsFlag('--tag'),
    )
    .option(
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print the job ids as JSON')
    .option(
      '--chain',
      'read a chain from stdin, one step a line, each dispatched when the one before succeeds (docs/workflows.md)',
    )
    .addHelpText(
      'after',
      '\nWithout --payload or --payload-file, reads newline-delimited JSON from stdin: one job per line (blank lines are skipped). Every line is checked before any job is stored; then all are stored in one transaction (on redis: one MULTI per 1,000 jobs, see docs/redis.md).\n',
    )
    .action(async (name: string | undefined, opts) =>
      withApp(globals(opts), async (app) => {
        if (opts.chain) return dispatchChain(app, name, opts);
        if (name === undefined) {
          throw new UsageError("missing required argument 'name'", {
            hint: `run queue:dispatch NAME --payload '{...}', or pipe JSON lines; --chain reads a chain.`,
          });
        }
        if (opts.payload !== undefined && opts.payloadFile !== undefined) {
          throw new UsageError('Use either --payload or --payload-file, not both.');
        }
        if (opts.delay !== undefined && opts.at !== undefined) {
          throw new UsageError('Use either --delay or --at, not both.', {
            hint: '--delay waits from now; --at names the moment.',
          });
        }
        const registry = await app.registry();
        const job = registry.get(name);
        if (!job) {
          // A built-in job of an integration this app does not set up: say what to set.
          const setup = registry.setupOf(name);
          if (setup)
            throw new UsageError(`"${name}" is a built-in job this app does not set up.`, {
              hint: `To dispatch it, ${setup}.`,
            });
          const names = registry.names();
          const guess = nearest(name, names);
          // No config file at all: most likely run from the wrong folder.
          const { file } = await app.config();
          throw new UsageError(
            `Unknown job "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Registered jobs: ${names.join(', ') || 'none'}.`,
            {
              hint: file
                ? `Check the name, or add the job to the jobs list in ${file}.`
                : 'No jobsmith.config.ts was found here: run from the folder that holds it, or pass --config PATH.',
            },
          );
        }
        const options = {
          queue: opts.queue,
          delay: opts.delay,
          at: opts.at,
          priority: opts.priority,
          tries: opts.tries,
          tags: opts.tag as string[] | undefined,
        };
        const connection = opts.connection ?? job.connection;
        const payload = readPayload(opts.payload, opts.payloadFile);
        if (payload === undefined) {
          if (process.stdin.isTTY) {
            throw new UsageError(
              'Give the payload with --payload JSON or --payload-file FILE, or pipe JSON lines on stdin.',
            );
          }
          return dispatchFromStdin({
            input: process.stdin,
            name,
            prepare: (p) => prepareJob(job, p, options),
            driver: await app.queues().get(connection),
            dispatcher: app.dispatcher(),
            connection,
            json: Boolean(opts.json),
          });
        }
        let row: NewJob;
        try {
          row = prepareJob(job, payload.value, options);
        } catch (error) {
          // A missing APP_KEY (an encrypted job) is the environment's fault, not the flags'.
          if (error instanceof ConfigError) throw error;
          throw new UsageError((error as Error).message, { hint: 'Nothing was dispatched.' });
        }
        const results = await app.dispatcher().push([row], connection);
        await printResults(results, name, Boolean(opts.json));
      }),
    );
}

/** `--chain`: the steps come from stdin (src/workflows/chains/cli-dispatch.ts). */
async function dispatchChain(
  app: App,
  name: string | undefined,
  opts: Record<string, unknown>,
): Promise<void> {
  const perJob = ['payload', 'payloadFile', 'delay', 'at', 'priority', 'tries', 'tag'];
  const given = perJob.find((key) => opts[key] !== undefined);
  if (given) {
    const flag = `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag} does not go with --chain: each step comes from a stdin line.`, {
      hint: 'Give per-step options in the line: {"job": NAME, "payload": {...}, "options": {"delay": "10s"}}.',
    });
  }
  if (process.stdin.isTTY) {
    throw new UsageError('--chain reads the steps from stdin: pipe one JSON line per step.');
  }
  const { dispatchChainFromStdin } = await import('../src/workflows/chains/cli-dispatch.js');
  await dispatchChainFromStdin(app, {
    input: process.stdin,
    name,
    queue: opts.queue as string | undefined,
    connection: opts.connection as string | undefined,
    json: Boolean(opts.json),
  });
}

/** The payload given with --payload or --payload-file; undefined when it comes on stdin. */
function readPayload(payload?: string, file?: string): { value: unknown } | undefined {
  const parse = (text: string, where: string): { value: unknown } => {
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      throw new UsageError(`${where} is not valid JSON: ${(error as Error).message}`);
    }
  };
  if (payload !== undefined) return parse(payload, '--payload');
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--payload-file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parse(text, `--payload-file ${file}`);
}
