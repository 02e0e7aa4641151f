/*
 * A chain's step as the job_chains row keeps it: the job already checked and serialised by
 * prepareJob (schema, options), so a worker that dispatches it needs no job definition, and an
 * invalid step is refused when the chain is dispatched, not halfway through it.
 */
import { ConfigError } from '../../errors.js';
import { prepareJob } from '../../jobs/prepare.js';
import type { NewJob } from '../../queue/driver.js';
import { isStep, type WorkflowStep } from '../step.js';

/**
 * A step of any job: a chain mixes jobs of different payloads, and a step of one is not a step
 * of `unknown` (its unique key function takes its own payload).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = WorkflowStep<any>;

/** A step as stored: NewJob without its unique key and headers (the chain sets both). */
export interface StoredStep {
  name: string;
  queue: string;
  /** JSON text. */
  payload: string;
  priority: number;
  maxTries: number;
  /** Milliseconds after the step is dispatched (when the step before succeeds). */
  delayMs: number;
  /** Epoch ms before which the step must not run (`at`). */
  runAt?: number;
  tags?: string[];
}

/** The header a chain's jobs carry: `<chain id>:<step index>:<length>` (src/queue/headers.ts). */
export const CHAIN_HEADER = 'jobsmith-chain';

/**
 * How long a step's unique key holds, ms. The key is freed when its job ends; the window only
 * has to outlast a step that waits (a delay, a busy queue): 30 days.
 */
export const STEP_UNIQUE_MS = 30 * 24 * 3600 * 1000;

/**
 * Checks `step` (as `dispatch` would) and returns it as stored. A step without a queue of its
 * own goes to `queue` (the chain's onQueue), else to its job's.
 *
 * @throws ConfigError when `step` was not made by step(), or names a connection (a chain runs
 *   on one: onConnection()); InvalidPayloadError / InvalidDispatchError as dispatch throws them.
 */
export function storeStep(step: AnyStep, queue: string | undefined, what: string): StoredStep {
  if (!isStep(step)) {
    throw new ConfigError(
      `${what} must be a step made by step(): chain([step(chargeCard, { orderId: 7 }), step(sendInvoice, { orderId: 7 })]).`,
    );
  }
  if (step.options?.connection !== undefined) {
    throw new ConfigError(
      `${what} (${step.job.name}) names the connection "${step.options.connection}", but every step of a chain runs on the chain's connection.`,
      { hint: 'Set it once with chain([...]).onConnection(name), and leave it out of step().' },
    );
  }
  const options = { ...step.options };
  if (options.queue === undefined && queue !== undefined) options.queue = queue;
  const job = prepareJob(step.job, step.payload, options);
  const stored: StoredStep = {
    name: job.name,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    maxTries: job.maxTries,
    delayMs: job.delayMs,
  };
  if (job.runAt !== undefined) stored.runAt = job.runAt;
  if (job.tags !== undefined) stored.tags = job.tags;
  return stored;
}

/**
 * The job that runs step `index` of chain `id` (or its catch: index is then the failed step's),
 * with the chain's header and a unique key that makes dispatching it twice store it once while
 * it lives (a step that runs again after a crash dispatches its next step again).
 */
export function stepJob(
  stored: StoredStep,
  ref: { id: string; index: number; length: number; catch?: boolean },
): NewJob {
  const key = `chain:${ref.id}:${ref.catch ? 'catch' : ref.index}`;
  return {
    ...stored,
    unique: { key, forMs: STEP_UNIQUE_MS },
    headers: { [CHAIN_HEADER]: chainHeader(ref) },
  };
}

/** Where a job stands in its chain, as its header says. */
export interface ChainRef {
  id: string;
  /** The step's index; for the catch job, the index of the step that failed. */
  index: number;
  /** Steps in the chain when this job was dispatched. */
  length: number;
  /** True for the chain's catch job. */
  catch: boolean;
}

/** `<id>:<index>:<length>`, or `<id>:catch:<index>:<length>` for the catch job. */
export function chainHeader(ref: {
  id: string;
  index: number;
  length: number;
  catch?: boolean;
}): string {
  return `${ref.id}:${ref.catch ? 'catch:' : ''}${ref.index}:${ref.length}`;
}

/** The header back; undefined when it is not one chainHeader made. */
export function parseChainHeader(value: string | undefined): ChainRef | undefined {
  const match = value === undefined ? null : /^([^:]+):(catch:)?(\d+):(\d+)$/.exec(value);
  if (!match) return undefined;
  return {
    id: match[1]!,
    catch: match[2] !== undefined,
    index: Number(match[3]),
    length: Number(match[4]),
  };
}
