/*
 * chain([...]): jobs that run one after the other. The builder is part of the public entry
 * point, so it loads no storage code until dispatch().
 */
import type { AnyStep } from './stored-step.js';

import type { DispatchedChain } from './dispatch-chain.js';

export type { DispatchedChain } from './dispatch-chain.js';

/**
 * A chain being built: `chain([step(chargeCard, p), step(sendInvoice, p)]).catch(step(refund,
 * p)).dispatch()`. Each method returns the builder; nothing is stored before dispatch().
 */
export class ChainBuilder {
  private queue?: string;
  private connection?: string;
  private catchStep?: AnyStep;

  constructor(private readonly steps: readonly AnyStep[]) {}

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
  catch(step: AnyStep): this {
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
    const { sharedApp } = await import('../../queue/client.js');
    const { dispatchChain } = await import('./dispatch-chain.js');
    return dispatchChain(await sharedApp(), this.steps, {
      queue: this.queue,
      connection: this.connection,
      catchStep: this.catchStep,
    });
  }
}

/**
 * A chain of steps, run one after the other: each is dispatched when the one before succeeds.
 * See ChainBuilder for onQueue, onConnection, catch and dispatch.
 */
export function chain(steps: AnyStep[]): ChainBuilder {
  return new ChainBuilder(steps);
}
