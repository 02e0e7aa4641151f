/*
 * `run queue:dispatch --chain`: a chain from newline-delimited JSON on stdin, one step a line,
 * in order. With a job name, each line is a payload of that job; without, each line is
 * `{"job": "order.charge", "payload": {...}, "options": {"delay": "10s"}}` (options as
 * dispatch takes them, optional). Every line is checked before anything is stored.
 */
import type { App } from '../../cli/app.js';
import { printResults } from '../../cli/bulk-dispatch.js';
import { UsageError } from '../../errors.js';
import type { DispatchOptions } from '../../jobs/types.js';
import { splitLines } from '../../util/lines.js';
import { step } from '../step.js';
import { dispatchChain } from './dispatch-chain.js';
import { storeStep, type AnyStep } from './stored-step.js';

/** A chain from stdin holds at most this many steps (its steps are one row's JSON). */
export const MAX_CLI_STEPS = 10_000;

export interface ChainFromStdin {
  input: AsyncIterable<Buffer | string>;
  /** Every line is a payload of this job; undefined: each line names its job. */
  name?: string;
  queue?: string;
  connection?: string;
  json: boolean;
}

/**
 * Reads the steps, dispatches the chain and prints it: `--json` as `{"id", "firstJobId",
 * "steps"}`, else one line.
 *
 * @throws UsageError naming the line for a line that is not JSON, names an unknown job, or
 *   fails the job's schema or options; for no line at all, or more than MAX_CLI_STEPS.
 */
export async function dispatchChainFromStdin(app: App, options: ChainFromStdin): Promise<void> {
  const registry = await app.registry();
  const steps: AnyStep[] = [];
  let lineNo = 0;
  for await (const line of splitLines(options.input)) {
    lineNo++;
    if (line.trim() === '') continue;
    if (steps.length === MAX_CLI_STEPS) {
      throw new UsageError(`A chain from stdin takes at most ${MAX_CLI_STEPS} steps.`, {
        hint: 'Split the work, or have a step add the rest with ctx.chain.append(). Nothing was dispatched.',
      });
    }
    const fail = (problem: string): never => {
      throw new UsageError(`stdin line ${lineNo}: ${problem}`, { hint: 'Nothing was dispatched.' });
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      fail(`not valid JSON (${(error as Error).message}).`);
    }
    let name = options.name;
    let payload = value;
    let stepOptions: DispatchOptions | undefined;
    if (name === undefined) {
      const entry = value as { job?: unknown; payload?: unknown; options?: unknown } | null;
      if (entry === null || typeof entry !== 'object' || typeof entry.job !== 'string') {
        fail('without a job name, each line is {"job": NAME, "payload": {...}}.');
      }
      name = entry!.job as string;
      payload = entry!.payload;
      if (entry!.options !== undefined) stepOptions = entry!.options as DispatchOptions;
    }
    if (options.name !== undefined && isNamedStep(value)) {
      fail(
        `each line is a payload of ${options.name} (named on the command line), but this one names its own job "${(value as { job: string }).job}". Name the job one way: leave NAME out for lines of {"job", "payload"}.`,
      );
    }
    const job = registry.get(name);
    if (!job)
      fail(`unknown job "${name}". Registered jobs: ${registry.names().join(', ') || 'none'}.`);
    if (stepOptions?.connection !== undefined) {
      fail(
        `the step names the connection "${stepOptions.connection}", but every step of a chain runs on one: give --connection once, and leave it out of the lines.`,
      );
    }
    const s = step(job!, payload, stepOptions);
    // Checked now (schema, options), so that a bad step is named by its line; the chain checks
    // every step again before it stores anything.
    try {
      storeStep(s, options.queue, `stdin line ${lineNo}`);
    } catch (error) {
      if ((error as Error).name.startsWith('Invalid')) fail((error as Error).message);
      throw error;
    }
    steps.push(s);
  }
  if (steps.length === 0) {
    throw new UsageError('No steps on stdin: pipe one JSON line per step.', {
      hint: `run queue:dispatch --chain < steps.ndjson, each line {"job": NAME, "payload": {...}}.`,
    });
  }
  let result;
  try {
    result = await dispatchChain(app, steps, {
      queue: options.queue,
      connection: options.connection,
    });
  } catch (error) {
    // A step the job refuses (schema, options): the user's input, not the storage. A
    // ConfigError (a step naming a connection, APP_KEY unset) keeps its own hint and code.
    if ((error as Error).name.startsWith('Invalid'))
      throw new UsageError((error as Error).message, { hint: 'Nothing was dispatched.' });
    throw error;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...result, steps: steps.length }, null, 2)}\n`);
    return;
  }
  await printResults([{ id: result.firstJobId, deduplicated: false }], steps[0]!.job.name, false);
  process.stdout.write(
    `Chain ${result.id}: ${steps.length} steps, each dispatched when the one before succeeds.\n`,
  );
}

/** A line of the `{"job": NAME, "payload": ...}` form. */
function isNamedStep(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { job?: unknown }).job === 'string' &&
    'payload' in value
  );
}
