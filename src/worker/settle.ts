import type { EventEmitter } from 'node:events';
import { failedRecord } from '../failed/record.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import { sleep } from '../util/sleep.js';
import { CompletionBatcher, completed } from './completions.js';
import type { WorkflowServices } from './deps.js';
import type { WorkerEvents } from './events.js';
import { toError, type Decision, type Execution } from './executor.js';
import { lastProgress } from './job-context.js';
import { isFatalStorageError } from './storage-health.js';

export interface SettleDeps {
  driver: QueueDriver;
  events: EventEmitter<WorkerEvents>;
  /**
   * Epoch ms until which every lease the worker holds is known to hold: the start of the last
   * lease renewal that went through (or of the worker) plus the lease. Settling writes are
   * retried until then; after it another worker may have the job.
   */
  leasesHeldUntil(): number;
  /** The lease length, ms: how long a stuck job waits before it may run again. */
  leaseMs: number;
  /** Aborted when the worker gives up on its jobs (end of --grace, a second signal). */
  abandon: AbortSignal;
  /** A storage write went through. */
  storageOk(): void;
  /** A storage write failed with an error worth retrying (reported once per job). */
  storageTrouble(error: unknown, during: string): void;
  /** For a batch job's outcome (WorkerDeps.workflow); none: recorded nowhere. */
  workflow?: WorkflowServices;
}

/**
 * A job's outcome that could not be written: the storage refused it (an error waiting cannot
 * fix) or kept failing until the job's lease ran out. The job stays where it was (held until its
 * lease ends, then claimable again); the worker stops on it (exit 14).
 */
export class SettleError extends Error {
  constructor(
    /** What the worker was writing: "recording the completion of job #7 (mail.send)". */
    readonly during: string,
    readonly cause: unknown,
    /** More to say after the storage's message: the job's own error, what happens next. */
    readonly note?: string,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'SettleError';
  }
}

/** Waits between retries of a settling write: 100 ms, doubling, at most 2 s. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

/**
 * Writes what became of a job (completed, released, failed, abandoned) and emits its event.
 * A write that fails with an error waiting can fix (a dropped connection, a server restart) is
 * retried with backoff until the job's lease ends, so a storage blip does not make finished jobs
 * run again; an error waiting cannot fix, or one that lasts past the lease, is thrown as a
 * SettleError and never reported as the job's success.
 */
export class Settler {
  private readonly completions: CompletionBatcher;

  constructor(private readonly deps: SettleDeps) {
    this.completions = new CompletionBatcher(deps.driver);
  }

  async settle(job: ClaimedJob, startedAt: number, execution: Execution): Promise<void> {
    const { driver, events } = this.deps;
    const decision = stuckOutcome(execution.decision, this.deps.leaseMs);
    // A batch's job: its final outcome is recorded (once) before the write below, so that a
    // crash in between runs the job again rather than losing its count (src/workflows/batches/).
    if (this.deps.workflow && job.headers?.['jobsmith-batch'] !== undefined)
      await this.recordBatchOutcome(job, decision, this.deps.workflow);
    if (decision.action === 'complete' || decision.action === 'skip') {
      const durationMs = Date.now() - startedAt;
      // A skipped job is deleted as a completed one is: only its event differs.
      // The job is its own lease (id and token): no object per completion.
      const ok = await this.write(job, 'completion', async () =>
        completed(await this.completions.complete(job), job.id),
      );
      if (!ok) events.emit('job:lost', { job });
      else if (decision.action === 'skip')
        events.emit('job:skipped', { job, durationMs, reason: decision.reason });
      else if (events.listenerCount('job:processed') > 0)
        events.emit('job:processed', {
          job,
          durationMs,
          result: execution.result,
          progress: lastProgress(execution.context),
        });
      return;
    }
    const lease = { id: job.id, token: job.token };
    const durationMs = Date.now() - startedAt;
    switch (decision.action) {
      case 'retry': {
        const ok = await this.write(job, 'retry', () =>
          driver.release(lease, {
            delayMs: decision.delayMs,
            refundAttempt: decision.refund,
            error: decision.error.message,
          }),
        );
        if (ok)
          events.emit('job:released', {
            job,
            durationMs,
            delayMs: decision.delayMs,
            error: decision.error,
            refunded: decision.refund,
          });
        else events.emit('job:lost', { job });
        return;
      }
      case 'fail': {
        // One record for every try, so a retried write cannot store the failure twice.
        const record = failedRecord(driver.connection, job, decision.reason, decision.error);
        const ok = await this.write(
          job,
          'failure',
          () => driver.fail(lease, record),
          `The job's own error: ${quote(decision.error.message)}.`,
        );
        if (!ok) return void events.emit('job:lost', { job });
        events.emit('job:failed', {
          job,
          durationMs,
          reason: decision.reason,
          error: decision.error,
          progress: lastProgress(execution.context),
        });
        // failed() runs once: only the worker whose write moved the job to failed_jobs calls it.
        if (execution.definition?.failed && execution.context) {
          try {
            await execution.definition.failed(execution.payload, decision.error, execution.context);
          } catch (error) {
            events.emit('worker:error', {
              error: toError(error),
              during: `failed() of ${job.name}`,
            });
          }
        }
        return;
      }
      case 'cancel': {
        const ok = await this.write(job, 'cancellation', async () =>
          (await driver.complete([lease])).includes(job.id),
        );
        if (!ok) return void events.emit('job:lost', { job });
        events.emit('job:cancelled', {
          job,
          durationMs,
          reason: decision.error.reason,
          progress: lastProgress(execution.context),
        });
        // Its request is spent. One left behind would only be swept later: reported, not fatal.
        await driver
          .forgetCancels([job.id])
          .catch((error: unknown) =>
            events.emit('worker:error', { error: toError(error), during: 'forgetting a cancel' }),
          );
        return;
      }
      case 'abandon': {
        const ok = await this.write(job, 'release', () =>
          driver.release(lease, { delayMs: 0, error: decision.error.message }),
        );
        events.emit(ok ? 'job:abandoned' : 'job:lost', { job, durationMs, error: decision.error });
        return;
      }
    }
  }

  private async recordBatchOutcome(
    job: ClaimedJob,
    decision: Decision,
    workflow: WorkflowServices,
  ): Promise<void> {
    const { outcomeOf, recordBatchOutcome } = await import('../workflows/batches/record.js');
    const outcome = outcomeOf(decision.action);
    if (outcome === undefined) return;
    await this.write(job, 'batch outcome', async () => {
      await recordBatchOutcome(job, outcome, workflow);
      return true;
    });
  }

  /**
   * Runs a settling write, retrying it (see the class comment). Resolves with whether the lease
   * was still ours. A write retried after a failure may have gone through the first time with
   * its reply lost; then the retry finds the job settled and answers "not ours". While the
   * lease holds no other claim can have the job, so that answer means ours went through.
   */
  private async write(
    job: ClaimedJob,
    what: string,
    attempt: () => Promise<boolean>,
    note?: string,
  ): Promise<boolean> {
    const { deps } = this;
    for (let tries = 0; ; tries++) {
      try {
        const ours = await attempt();
        deps.storageOk();
        return ours || (tries > 0 && Date.now() < deps.leasesHeldUntil());
      } catch (error) {
        const during = `recording the ${what} of job #${job.id} (${job.name})`;
        const left = deps.leasesHeldUntil() - Date.now();
        if (isFatalStorageError(error)) throw new SettleError(during, error, note);
        if (left <= 0 || deps.abandon.aborted) {
          const next = deps.abandon.aborted
            ? 'It was not recorded before the worker gave up on its jobs (--grace over, or a second signal): the job runs again once its lease ends.'
            : 'It was not recorded within the lease: the job runs again once the lease ends.';
          throw new SettleError(during, error, note ? `${note} ${next}` : next);
        }
        if (tries === 0) deps.storageTrouble(error, `${during} (retrying within its lease)`);
        const wait = Math.min(FIRST_RETRY_MS * 2 ** tries, MAX_RETRY_MS, left);
        await sleep(wait, deps.abandon);
      }
    }
  }
}

/** A job's error message for a one-line report: control characters escaped, at most 200 characters. */
function quote(message: string): string {
  const short = message.length > 200 ? `${message.slice(0, 200)}…` : message;
  return JSON.stringify(short);
}

/**
 * What is written for a job whose handler ignored its timeout's abort (it still runs, and the
 * worker stops): it is put back to wait one lease length, as if its lease had run out, so it
 * does not run twice at once while this worker lets its other jobs finish; but its attempt
 * counts and its cause is kept ("Job timed out after 2s, and its handler ignored..."). On its
 * last try it fails now, as a timeout. Any other decision is returned as it is.
 */
function stuckOutcome(decision: Decision, leaseMs: number): Exclude<Decision, { action: 'stuck' }> {
  if (decision.action !== 'stuck') return decision;
  const { error } = decision;
  return decision.final
    ? { action: 'fail', reason: 'timeout', error }
    : { action: 'retry', delayMs: leaseMs, error, refund: false };
}
