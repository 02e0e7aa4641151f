/*
 * One unit of a workflow (a chain's step, a batch's job, a callback): a job, its payload and its
 * dispatch options, as dispatchMany takes them. Shared by chain() and batch(), so both read the
 * same shape. Loaded by the public entry point: no storage, no worker code.
 */
import { ConfigError } from '../errors.js';
import type { DispatchOptions, JobDefinition } from '../jobs/types.js';

/** A job with its payload and options, waiting to be dispatched by a chain or a batch. */
export interface WorkflowStep<P = unknown> {
  readonly kind: 'jobsmith.step';
  readonly job: JobDefinition<P>;
  readonly payload: P;
  readonly options?: DispatchOptions;
}

/**
 * A job to run as part of a chain or a batch: `step(sendInvoice, { orderId: 7 })`. Nothing is
 * dispatched until the chain or batch is. The payload is checked against the job's schema when
 * it is dispatched, as `dispatch` checks it.
 *
 * @throws ConfigError when `job` is not a job made by defineJob.
 */
export function step<P>(
  job: JobDefinition<P>,
  payload: P,
  options?: DispatchOptions,
): WorkflowStep<P> {
  if (!job || (job as { kind?: unknown }).kind !== 'jobsmith.job') {
    throw new ConfigError(
      'step() takes a job made by defineJob: step(sendInvoice, { orderId: 7 }).',
    );
  }
  return { kind: 'jobsmith.step', job, payload, ...(options ? { options } : {}) };
}

/** True for a value made by step(). */
export function isStep(value: unknown): value is WorkflowStep {
  return (value as { kind?: unknown } | null)?.kind === 'jobsmith.step';
}
