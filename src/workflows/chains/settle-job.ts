/*
 * What a chain's job does when it settles, called by the worker (src/worker/settle.ts) BEFORE
 * the job's own outcome is written, for a job that carries the chain header:
 *
 * - a step that succeeded dispatches the next step (or marks the chain done);
 * - a step that finally failed dispatches the chain's catch job and marks the chain failed;
 * - a step that ended cancelled marks the chain cancelled (no catch);
 * - the catch job marks the chain failed (confirming what its step wrote);
 * - the step a chain failed on, retried by hand and now succeeded, resumes the chain.
 *
 * Why this order is safe (docs/workflows.md, "Chains"): the next job is stored first, with the
 * unique key `chain:<id>:<index>`, then the chain's `position` moves on (compare-and-set), then
 * the worker writes the step's completion. A crash anywhere before that completion makes the
 * step run again (its lease runs out), and its second hand-off either finds `position` moved on
 * (nothing to do) or stores the next job again under the same key, which the queue
 * deduplicates while that job lives; once the next job has ended, it has moved `position` on
 * itself (or ended the chain) before its own completion, so the re-run finds nothing to do.
 * A job that is not the chain's current step (a late duplicate) changes nothing.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { Knex } from 'knex';
import { sharedApp } from '../../queue/client.js';
import type { ClaimedJob, QueueDriver } from '../../queue/driver.js';
import type { JobContext } from '../../jobs/types.js';
import { applyEdits, JobChain } from './context.js';
import { findChain, updateChain, type ChainRow } from './store.js';
import { CHAIN_HEADER, parseChainHeader, stepJob } from './stored-step.js';

/** How a job settles, as the worker decided (Decision['action'], stuck resolved). */
export type SettleAction = 'complete' | 'skip' | 'retry' | 'fail' | 'cancel' | 'abandon';

/** Compare-and-set rounds before giving up: each lost round means another writer moved on. */
const MAX_ROUNDS = 20;
/**
 * How long a step waits for its predecessor's resume to be written: RESUME_WAITS rounds of
 * RESUME_WAIT_MS (2 s). Past it (that step's worker died between its two writes) it reads the
 * chain as it is, as before; the predecessor's re-run resumes the chain.
 */
const RESUME_WAIT_MS = 50;
const RESUME_WAITS = 40;

/**
 * Moves the chain of `job` on as `action` says; resolves true once its part is written (the
 * worker then writes the job's outcome). Rejects on a storage error: the worker retries it
 * within the job's lease, as it retries its own settling writes, then leaves the job to run
 * again.
 */
export async function settleChainJob(
  job: ClaimedJob,
  action: SettleAction,
  driver: QueueDriver,
  context: JobContext | undefined,
  /**
   * The worker's SQL storage (WorkerDeps.workflow.db), where the chain is. None (a caller
   * without a worker's services): the shared client's, from the environment of process.cwd().
   */
  db?: () => Promise<Knex>,
): Promise<boolean> {
  // A retry or a release is not an outcome: the step runs again.
  if (action === 'retry' || action === 'abandon') return true;
  const ref = parseChainHeader(job.headers?.[CHAIN_HEADER]);
  if (!ref) return true;
  const knex = db ? await db() : (await (await sharedApp()).db()).knex;
  const edits = context?.chain instanceof JobChain ? context.chain.edits : [];
  let waits = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const chain = await findChain(knex, ref.id);
    if (!chain) return true; // gone (pruned)
    // The step the chain failed on, retried (`run queue:retry`) and now through: the chain
    // resumes from it, as a retried step of a Laravel chain goes on with the rest. Its catch
    // has run already and does not run again.
    const resuming =
      chain.status === 'failed' &&
      !ref.catch &&
      chain.failedIndex === ref.index &&
      chain.position === ref.index &&
      (action === 'complete' || action === 'skip');
    // The step before this one was retried by hand and resumed the chain: it stored this step,
    // then marks the chain running again. This step can run and end in between (its worker
    // frees the slot before that step's write): wait for the write, or the chain would read as
    // ended and stay `running` at this step forever once the write lands.
    if (
      chain.status === 'failed' &&
      !ref.catch &&
      chain.failedIndex === ref.index - 1 &&
      chain.position === ref.index - 1 &&
      waits < RESUME_WAITS
    ) {
      waits++;
      round--; // a wait is not a lost race
      await wait(RESUME_WAIT_MS);
      continue;
    }
    // Ended: nothing left to move.
    if (chain.status !== 'running' && !resuming) return true;
    // Handed on already (an earlier run of this step), or a duplicate of a step passed; for a
    // catch job, its step was retried and the chain went on without it.
    if (chain.position > ref.index) return true;
    const write = (change: Parameters<typeof updateChain>[2]) =>
      updateChain(knex, chain, resuming ? { status: 'running', ...change } : change, Date.now());
    if (ref.catch) {
      if (await write({ status: 'failed', failedIndex: ref.index })) return true;
      continue;
    }
    if (action === 'cancel') {
      if (await write({ status: 'cancelled' })) return true;
      continue;
    }
    if (action === 'fail') {
      if (chain.catchStep) await push(driver, chain, chain.catchStep, ref.index, true);
      if (await write({ status: 'failed', failedIndex: ref.index })) return true;
      continue;
    }
    // Succeeded (or skipped by middleware, which counts as done).
    if (edits.length > 0 && chain.editedThrough < ref.index) {
      const steps = applyEdits(chain.steps, ref.index, edits, chain.queue);
      await write({ steps, editedThrough: ref.index });
      continue; // read again, written or not
    }
    const next = ref.index + 1;
    if (next >= chain.steps.length) {
      if (await write({ status: 'done' })) return true;
      continue;
    }
    await push(driver, chain, chain.steps[next]!, next, false);
    if (await write({ position: next })) return true;
  }
  throw new Error(
    `Chain ${ref.id} kept changing while job #${job.id} (${job.name}) handed on: ${MAX_ROUNDS} writes in a row lost the race.`,
  );
}

/** Stores step `index` of `chain` (or its catch job), deduplicated by the step's key. */
async function push(
  driver: QueueDriver,
  chain: ChainRow,
  stored: ChainRow['steps'][number],
  index: number,
  isCatch: boolean,
): Promise<void> {
  await driver.push([
    stepJob(stored, { id: chain.id, index, length: chain.steps.length, catch: isCatch }),
  ]);
}
