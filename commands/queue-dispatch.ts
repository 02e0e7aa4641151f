import { readFileSync } from 'node:fs';
import { withApp } from '../src/cli/app.js';
import {
  dateFlag,
  durationFlag,
  globals,
  newCommand,
  priorityFlag,
  triesFlag,
} from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { nearest } from '../src/cli/suggest.js';
import { UsageError } from '../src/errors.js';
import { InvalidPayloadError } from '../src/jobs/errors.js';
import { prepareJob } from '../src/jobs/prepare.js';
import type { NewJob } from '../src/queue/driver.js';
import { connectionFlag, queueFlag } from '../src/queue/names.js';

export default function command() {
  return newCommand(
    'queue:dispatch',
    'Dispatch a job from the shell',
    `run queue:dispatch digest.send --payload '{"userId":1}'`,
  )
    .argument('<name>', 'job name, as registered in the config')
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
      '--connection <name>',
      'queue connection (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print the job ids as JSON')
    .addHelpText(
      'after',
      '\nWithout --payload or --payload-file, reads newline-delimited JSON from stdin: one job per line, all in one transaction.\n',
    )
    .action(async (name: string, opts) =>
      withApp(globals(opts), async (app) => {
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
          const names = registry.names();
          const guess = nearest(name, names);
          throw new UsageError(
            `Unknown job "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Registered jobs: ${names.join(', ') || 'none'}.`,
            {
              hint: 'Check the name, or add the job to the jobs list in jobsmith.config.ts.',
            },
          );
        }
        const payloads = await readPayloads(opts.payload, opts.payloadFile);
        const options = {
          queue: opts.queue,
          delay: opts.delay,
          at: opts.at,
          priority: opts.priority,
          tries: opts.tries,
        };
        let rows: NewJob[];
        try {
          rows = payloads.map((p, i) => {
            try {
              return prepareJob(job, p, options);
            } catch (error) {
              throw payloads.length > 1
                ? new InvalidPayloadError(`Line ${i + 1}: ${(error as Error).message}`)
                : error;
            }
          });
        } catch (error) {
          throw new UsageError((error as Error).message, { hint: 'Nothing was dispatched.' });
        }
        const results = await app.dispatcher().push(rows, opts.connection ?? job.connection);
        if (opts.json) return printJson(results);
        for (const r of results) {
          say(
            r.deduplicated
              ? `${paint.yellow('Deduplicated')}  ${name} → existing job #${r.id}`
              : `${paint.green('Dispatched')}  ${name} #${r.id}`,
          );
        }
      }),
    );
}

async function readPayloads(payload?: string, file?: string): Promise<unknown[]> {
  const parse = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${where} is not valid JSON: ${(error as Error).message}`);
    }
  };
  if (payload !== undefined) return [parse(payload, '--payload')];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--payload-file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    return [parse(text, `--payload-file ${file}`)];
  }
  if (process.stdin.isTTY) {
    throw new UsageError(
      'Give the payload with --payload JSON or --payload-file FILE, or pipe JSON lines on stdin.',
    );
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0)
    throw new UsageError('No payload: stdin was empty. Give --payload JSON or pipe JSON lines.');
  return lines.map((line, i) => parse(line, `stdin line ${i + 1}`));
}
