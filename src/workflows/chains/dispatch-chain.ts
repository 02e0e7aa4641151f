/*
 * Stores a chain and dispatches its first step: what chain().dispatch() and
 * `run queue:dispatch --chain` share.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/connection.js';
import { ConfigError } from '../../errors.js';
import { refuseSyncConnection } from '../needs-worker.js';
import type { Dispatcher } from '../../queue/dispatcher.js';
import { insertChain } from './store.js';
import { stepJob, storeStep, type AnyStep } from './stored-step.js';

/** What chain().dispatch() resolves with. */
export interface DispatchedChain {
  /** The chain's id (job_chains.id, a UUID); ctx.chain.id in its jobs. */
  id: string;
  /** The id of the first step's job. */
  firstJobId: string;
}

export interface ChainOptions {
  /** Queue of the steps that name none. @defaultValue each job's queue */
  queue?: string;
  /** Connection of every step. @defaultValue QUEUE_CONNECTION */
  connection?: string;
  /** Dispatched once if a step finally fails. @defaultValue none */
  catchStep?: AnyStep;
}

/**
 * Checks every step, stores the chain (job_chains) and dispatches its first step.
 *
 * @throws ConfigError for an empty chain, a value not made by step(), a step naming a
 *   connection; InvalidPayloadError / InvalidDispatchError as dispatch() throws them. All
 *   before anything is stored.
 */
export async function dispatchChain(
  app: { db(): Promise<Database>; dispatcher(): Dispatcher },
  given: readonly AnyStep[],
  options: ChainOptions = {},
): Promise<DispatchedChain> {
  if (!Array.isArray(given) || given.length === 0) {
    throw new ConfigError(
      'chain() needs at least one step: chain([step(chargeCard, { orderId: 7 }), step(sendInvoice, { orderId: 7 })]).',
    );
  }
  const { queue, connection } = options;
  const steps = given.map((s, i) => storeStep(s, queue, `chain() step ${i}`));
  const catchStep = options.catchStep && storeStep(options.catchStep, queue, 'chain().catch()');
  await refuseSyncConnection(app.dispatcher(), connection, 'chain');
  const { knex } = await app.db();
  const id = randomUUID();
  // The row first: a step's job must find its chain. A crash before the push leaves a row
  // with no job, and the caller without an id: nothing runs.
  await insertChain(
    knex,
    {
      id,
      connection: connection ?? null,
      queue: queue ?? null,
      steps,
      catchStep: catchStep ?? null,
    },
    Date.now(),
  );
  const [first] = await app
    .dispatcher()
    .push([stepJob(steps[0]!, { id, index: 0, length: steps.length })], connection);
  return { id, firstJobId: first!.id };
}
