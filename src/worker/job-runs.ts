import type { EventEmitter } from 'node:events';
import type { ClaimedJob } from '../queue/driver.js';
import { settlesBehind } from './completions.js';
import { SharedDeadlines } from './deadlines.js';
import type { WorkerDeps } from './deps.js';
import type { WorkerEvents } from './events.js';
import { execute, toError, type ExecuteOptions } from './executor.js';
import type { IsolationLine } from './isolation.js';
import type { Nudges } from './nudges.js';
import type { WorkerOptions } from './options.js';
import type { QueueSlots, Running } from './queue-slots.js';
import { SettleError, Settler } from './settle.js';
import { finishWithin } from './shutdown.js';
import type { StorageWatch } from './storage-health.js';

/** What JobRuns shares with its worker, which keeps claiming while jobs run. */
export interface JobRunsDeps {
  options: WorkerOptions;
  deps: WorkerDeps;
  /** The worker, whose job events and errors these are. */
  events: EventEmitter<WorkerEvents>;
  /** Running jobs, by id and per capped queue: a job holds its slot here until it ends. */
  running: QueueSlots;
  /** Told when a job ends: the one running alone may be it. */
  isolation: IsolationLine;
  /** Nudged when a slot frees: the claim loop may claim again. */
  nudges: Nudges;
  /** Told of outcomes that could not be written (SettleError) and of writes that went through. */
  storage: StorageWatch;
  /** Aborted at the end of --grace or on a second signal: abandon in-flight jobs now. */
  hardStop: AbortController;
  /** Epoch ms until which every lease the worker holds is known to hold (SettleDeps). */
  leasesHeldUntil(): number;
  /** Jobs claimed ahead of free slots (WorkerOptions.prefetch where it applies). */
  ahead: number;
  /** A job ignored its timeout's abort past the stuck grace: the worker stops, exit 13. */
  stuck(): void;
  /** A job's run is over; `putBack`: released with its attempt refunded (RetryAfter). */
  ended(putBack: boolean): void;
}

/**
 * Runs the jobs the worker claimed, each to its written outcome: starts them, calls the handler
 * (executor.ts), settles what became of it (settle.ts) and frees its slot. A completed job's slot
 * may free before its completion is written, so the next job starts meanwhile (settlesBehind):
 * drain() waits for those writes as for the jobs still running.
 */
export class JobRuns {
  /** Completions still being written for jobs whose slot is already free. */
  private readonly settling = new Set<Promise<void>>();
  /** The same for every job: made once, not per job. */
  private readonly executeOptions: ExecuteOptions;
  /** Every running job's timeout, on one timer. */
  private readonly deadlines = new SharedDeadlines();
  private readonly settler: Settler;
  /** Without prefetch, a claim may overlap the previous job's completion (settlesBehind). */
  private readonly claimsWhileSettling: boolean;

  constructor(private readonly shared: JobRunsDeps) {
    const { options, deps, storage, hardStop } = shared;
    this.claimsWhileSettling =
      deps.driver.connection === 'database' && !options.once && options.maxJobs === undefined;
    this.settler = new Settler({
      driver: deps.driver,
      leaseMs: options.leaseMs,
      events: shared.events,
      leasesHeldUntil: () => shared.leasesHeldUntil(),
      abandon: hardStop.signal,
      storageOk: () => storage.ok(),
      storageTrouble: (error, during) => void storage.trouble(error, during),
      workflow: deps.workflow,
    });
    const { timeoutMs, tries, backoff, stuckGraceMs, queuePolicies } = options;
    const overrides = { timeoutMs, tries, backoff, stuckGraceMs, queuePolicies };
    const { registry, log, dispatch, jobContext, flow, aroundHandler } = deps;
    const schedule = this.deadlines.schedule;
    this.executeOptions = { ...overrides, schedule, registry, log, dispatch, jobContext, flow };
    if (aroundHandler) this.executeOptions.aroundHandler = aroundHandler;
    if (deps.workflow) this.executeOptions.workflow = deps.workflow;
    this.executeOptions.progress = (job, value) => deps.driver.progress(job, value);
    hardStop.signal.addEventListener('abort', () => {
      for (const r of shared.running.values()) r.interrupt?.();
    });
  }

  /** Whether no job runs and no outcome is still being written. */
  get idle(): boolean {
    return this.shared.running.size === 0 && this.settling.size === 0;
  }

  /**
   * Starts jobs in two passes: every job is running, its event out, before the first handler
   * is called (handlers are called directly, so one that blocks the event loop would
   * otherwise hold back the others' start, and their events, until it ends).
   */
  start(jobs: ClaimedJob[]): void {
    const { events, running } = this.shared;
    const listened = events.listenerCount('job:processing') > 0;
    const startedAt = Date.now();
    const started = jobs.map((job): Running => {
      const run: Running = { job, startedAt, done: DONE };
      running.set(job.id, run);
      // The payload object is made only when someone listens: a worker without renderers (an
      // embedded one, the benchmarks) pays nothing per job for events.
      if (listened) events.emit('job:processing', { job });
      return run;
    });
    for (const run of started) run.done = this.run(run);
  }

  private async run(running: Running): Promise<void> {
    const { job } = running;
    const { events, storage, options, ahead } = this.shared;
    let putBack = false;
    try {
      const execution = await execute(job, this.executeOptions, running);
      const { decision } = execution;
      putBack = decision.action === 'retry' && decision.refund;
      if (decision.action === 'stuck' || (decision.action === 'cancel' && decision.stuck)) {
        events.emit('job:stuck', { job, error: decision.error });
        this.shared.stuck();
      }
      if (
        decision.action === 'complete' &&
        settlesBehind(ahead, this.claimsWhileSettling, this.settling.size, options.concurrency)
      ) {
        // The handler is done: its slot frees now and the next job starts (or is claimed)
        // while the completion is written, batched with others. drain() waits for it.
        const settling = this.settler.settle(job, running.startedAt, execution);
        this.settling.add(settling);
        this.freeSlot(job.id);
        try {
          await settling;
        } finally {
          this.settling.delete(settling);
        }
      } else {
        await this.settler.settle(job, running.startedAt, execution);
      }
    } catch (error) {
      // The outcome could not be written: never reported as the job's success.
      if (error instanceof SettleError) storage.failed(error.cause, error.during, error.note);
      else events.emit('worker:error', { error: toError(error), during: 'settle' });
    } finally {
      this.shared.ended(putBack);
      // A completion written after its slot freed can end an idle wait: --stop-when-empty
      // waits for it, and a driver may hand over the next job with a completion.
      if (!this.freeSlot(job.id) && this.shared.running.size === 0) this.shared.nudges.nudge();
    }
  }

  private freeSlot(id: string): boolean {
    if (!this.shared.running.delete(id)) return false;
    this.shared.isolation.ended(id);
    this.shared.nudges.nudge();
    return true;
  }

  /**
   * Waits for in-flight jobs up to --grace, then abandons what still runs, and gives up on
   * outcomes still being retried (the storage down at shutdown).
   */
  async drain(): Promise<void> {
    const { running } = this.shared;
    await finishWithin(
      this.shared.options.graceMs,
      this.shared.hardStop,
      () => [...running.values()].map((r) => r.done).concat([...this.settling]),
      () => this.idle,
    );
  }

  /** Drops every job's timeout (the worker has stopped). */
  clearDeadlines(): void {
    this.deadlines.clear();
  }
}

const DONE = Promise.resolve();
