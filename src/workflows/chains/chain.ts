/*
 * chain([...]): jobs that run one after the other. The builder is part of the public entry
 * point, so it loads no storage code until dispatch().
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import type { WorkflowStep } from '../step.js';
import { stepJob, storeStep } from './stored-step.js';

/** What chain().dispatch() resolves with. */
export interface DispatchedChain {
  /** The chain's id (job_chains.id, a UUID); ctx.chain.id in its jobs. */
  id: string;
  /** The id of the first step's job. */
  firstJobId: string;
}

/**
 * A chain being built: `chain([step(chargeCard, p), step(sendInvoice, p)]).catch(step(refund,
 * p)).dispatch()`. Each method returns the builder; nothing is stored before dispatch().
 */
export class ChainBuilder {
  private queue?: string;
  private connection?: string;
  private catchStep?: WorkflowStep;

  constructor(private readonly steps: readonly WorkflowStep[]) {}

  /** The queue of every step that names none in step()'s options (else its job's queue). */
  onQueue(queue: string): this {
    this.queue = queue;
    return this;
  }

  /** The connection every step runs on. @defaultValue QUEUE_CONNECTION */
  onConnection(connection: string): this {
    this.connection = connection;
    return this;
  }

  /**
   * A job to run once if a step finally fails (its tries spent, Permanent, an unreadable
   * payload, a timeout on its last try): the chain stops and this job is dispatched, with
   * ctx.chain set (ctx.chain.index is the failed step's). Not run for a step that was cancelled.
   */
  catch(step: WorkflowStep): this {
    this.catchStep = step;
    return this;
  }

  /**
   * Stores the chain and dispatches its first step, through the shared client (the
   * environment's storage, as dispatch() uses).
   *
   * @throws ConfigError for an empty chain, a value not made by step(), a step naming a
   *   connection; InvalidPayloadError / InvalidDispatchError as dispatch() throws them. All
   *   before anything is stored.
   */
  async dispatch(): Promise<DispatchedChain> {
    if (!Array.isArray(this.steps) || this.steps.length === 0) {
      throw new ConfigError(
        'chain() needs at least one step: chain([step(chargeCard, { orderId: 7 }), step(sendInvoice, { orderId: 7 })]).',
      );
    }
    const steps = this.steps.map((s, i) => storeStep(s, this.queue, `chain() step ${i}`));
    const catchStep = this.catchStep && storeStep(this.catchStep, this.queue, 'chain().catch()');
    const { sharedApp } = await import('../../queue/client.js');
    const { insertChain } = await import('./store.js');
    const app = await sharedApp();
    const { knex } = await app.db();
    const id = randomUUID();
    // The row first: a step's job must find its chain. A crash before the push leaves a row
    // with no job, and the caller without an id: nothing runs.
    await insertChain(
      knex,
      {
        id,
        connection: this.connection ?? null,
        queue: this.queue ?? null,
        steps,
        catchStep: catchStep ?? null,
      },
      Date.now(),
    );
    const [first] = await app
      .dispatcher()
      .push([stepJob(steps[0]!, { id, index: 0, length: steps.length })], this.connection);
    return { id, firstJobId: first!.id };
  }
}

/**
 * A chain of steps, run one after the other: each is dispatched when the one before succeeds.
 * See ChainBuilder for onQueue, onConnection, catch and dispatch.
 */
export function chain(steps: WorkflowStep[]): ChainBuilder {
  return new ChainBuilder(steps);
}
