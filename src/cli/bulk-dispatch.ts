import { JobsmithError } from '../errors.js';
import { PartialPushError } from '../queue/bulk/partial-push-error.js';
import { spoolNdjson } from '../queue/bulk/ndjson.js';
import type { Dispatcher } from '../queue/dispatcher.js';
import type { NewJob, PushResult, QueueDriver } from '../queue/driver.js';
import { paint } from './output.js';

/**
 * `queue:dispatch NAME < jobs.ndjson`: validates every line into a file first (so nothing is
 * stored if any line is wrong, and SQLite's write lock is never held while a slow producer
 * writes), then stores the file in one go (QueueDriver.pushStream), then prints the results
 * from disk. Memory stays flat however many lines there are.
 */
export async function dispatchFromStdin(options: {
  input: AsyncIterable<Buffer | string>;
  name: string;
  prepare: (payload: unknown) => NewJob;
  driver: QueueDriver;
  dispatcher: Dispatcher;
  connection?: string;
  json: boolean;
}): Promise<void> {
  const { driver } = options;
  const spool = await spoolNdjson(options.input, options.prepare, driver.check?.bind(driver));
  try {
    try {
      await options.dispatcher.pushStream(
        (size) => spool.batches(size),
        (results) => spool.record(results),
        options.connection,
      );
    } catch (error) {
      if (!(error instanceof PartialPushError)) throw error;
      await printResults(spool.storedResults(), options.name, options.json);
      const next = await spool.lineOf(error.stored);
      const cause = (error.cause as Error | undefined)?.message ?? error.message;
      throw new JobsmithError(
        `${count(error.stored)} of ${count(spool.count)} jobs were stored (printed above) before the push failed: ${cause}`,
        {
          hint: `The jobs from stdin line ${next} on were not stored; dispatch them once the storage is back, e.g. tail -n +${next} FILE | run queue:dispatch ${options.name}.`,
          cause: error,
        },
      );
    }
    await printResults(spool.storedResults(), options.name, options.json);
  } finally {
    spool.dispose();
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Prints dispatch results as they are read: `--json` exactly as JSON.stringify(results, null,
 * 2) would, without the array in memory; otherwise one line per job.
 */
export async function printResults(
  results: AsyncIterable<PushResult> | Iterable<PushResult>,
  name: string,
  json: boolean,
): Promise<void> {
  const out = new ChunkedWriter(process.stdout);
  let first = true;
  for await (const r of results) {
    if (json) {
      await out.write(
        `${first ? '[\n' : ',\n'}  {\n    "id": ${JSON.stringify(r.id)},\n    "deduplicated": ${r.deduplicated}\n  }`,
      );
    } else {
      await out.write(
        r.deduplicated
          ? `${paint.yellow('Deduplicated')}  ${name} → existing job #${r.id}\n`
          : `${paint.green('Dispatched')}  ${name} #${r.id}\n`,
      );
    }
    first = false;
  }
  if (json) await out.write(first ? '[]\n' : '\n]\n');
  await out.end();
}

/** Gathers small writes into 64 KB ones and waits for the stream to drain between them. */
class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 16) await this.flush();
  }

  async end(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
    }
  }
}
