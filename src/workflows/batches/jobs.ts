/*
 * Turns a batch's steps into the rows a driver stores: its jobs carry the batch header and no
 * unique key (a job deduplicated against another would never record an outcome, and the batch
 * would never finish); its callbacks are kept as StoredSteps and pushed later, from a worker,
 * with a unique key.
 */
import { ConfigError } from '../../errors.js';
import { prepareJob } from '../../jobs/prepare.js';
import type { NewJob } from '../../queue/driver.js';
import { isStep, type WorkflowStep } from '../step.js';
import { BATCH_CALLBACK_HEADER, BATCH_HEADER, callbackKey } from './headers.js';
import type { BatchCallbackKind, BatchRecord, StoredStep } from './store.js';

/** How long a callback's unique key holds while its job waits: 7 days, in ms. */
const CALLBACK_UNIQUE_MS = 7 * 24 * 3600 * 1000;

/** Checks that every value is a step; `what` names the call for the message. */
export function checkSteps(steps: unknown, what: string): WorkflowStep[] {
  if (!Array.isArray(steps) || !steps.every(isStep)) {
    throw new ConfigError(
      `${what} takes an array of steps made by step(): ${what}([step(sendNewsletter, { userId: 1 })]).`,
    );
  }
  return steps;
}

/** The stored rows of a batch's jobs, each carrying the batch id; checked as dispatch checks them. */
export function batchJobs(
  steps: readonly WorkflowStep[],
  batchId: string,
  queue: string | null,
): NewJob[] {
  return steps.map((s) => {
    const options = queue && !s.options?.queue ? { ...s.options, queue } : s.options;
    const job = prepareJob(s.job, s.payload, options);
    return { ...job, unique: undefined, headers: { [BATCH_HEADER]: batchId } };
  });
}

/** A callback step as the batch row keeps it (checked now, pushed when it is due). */
export function storedStep(s: WorkflowStep, queue: string | null): StoredStep {
  const options = queue && !s.options?.queue ? { ...s.options, queue } : s.options;
  const job = prepareJob(s.job, s.payload, options);
  return {
    name: job.name,
    queue: job.queue,
    payload: JSON.parse(job.payload) as unknown,
    options: {
      priority: job.priority,
      tries: job.maxTries,
      delayMs: job.delayMs,
      ...(job.tags ? { tags: job.tags } : {}),
    },
  };
}

/** The row of a batch's callback job, with its unique key and header. */
export function callbackJob(batch: BatchRecord, kind: BatchCallbackKind): NewJob | undefined {
  const s = batch.options[kind];
  if (!s) return undefined;
  const o = s.options as { priority?: number; tries?: number; delayMs?: number; tags?: string[] };
  return {
    name: s.name,
    queue: s.queue ?? batch.options.queue ?? 'default',
    payload: JSON.stringify(s.payload ?? null),
    priority: o.priority ?? 0,
    maxTries: o.tries ?? 3,
    delayMs: o.delayMs ?? 0,
    ...(o.tags ? { tags: o.tags } : {}),
    unique: { key: callbackKey(batch.id, kind), forMs: CALLBACK_UNIQUE_MS },
    headers: { [BATCH_CALLBACK_HEADER]: `${batch.id}:${kind}` },
  };
}
