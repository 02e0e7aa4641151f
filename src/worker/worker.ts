import { EventEmitter, setMaxListeners } from 'node:events';
import { failedRecord } from '../failed/record.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { DispatchOptions, DispatchResult, JobDefinition, JobLogger } from '../jobs/types.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import type { WorkerEvents, StopReason } from './events.js';
import { execute, toError, type Decision, type Execution } from './executor.js';
import { CompletionBatcher } from './completions.js';
import { Heartbeat } from './heartbeat.js';
import { EXIT, type WorkerOptions } from './options.js';
import { ControlPoller, type WorkerControl } from './control-poller.js';

export interface WorkerDeps {
  driver: QueueDriver;
  registry: JobRegistry;
  /** Paused queues and the restart signal, shared by all workers. */
  control: WorkerControl;
  log: JobLogger;
  dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult>;
}

interface Running {
  job: ClaimedJob;
  startedAt: number;
  /** Aborts this job alone: lease lost, or shutdown past grace. */
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Claims jobs and runs them, `concurrency` at a time, until told to stop. It emits events and
 * never prints; `run queue:work` renders them.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  private readonly running = new Map<string, Running>();
  /** Completions still being written for jobs whose slot is already free. */
  private readonly settling = new Set<Promise<void>>();
  /** Jobs claimed ahead (options.prefetch), not started yet, leases held. */
  private buffer: ClaimedJob[] = [];
  /** performance.now() when the claim loop last let the event loop run. */
  private yieldedAt = 0;
  private stopReason?: StopReason;
  private exitCode: number = EXIT.OK;
  private processed = 0;
  private claimedCount = 0;
  private pausedBySignal = false;
  /**
   * Aborted when the worker must stop waiting (a slot freed, stop, resume). Made when the loop
   * takes its signal, not per nudge: an AbortController is costly, and a job ends with a nudge.
   */
  private nudgeController?: AbortController;
  /** Aborted at the end of --grace or on a second signal: abandon in-flight jobs now. */
  private readonly hardStop = (() => {
    const c = new AbortController();
    // One listener per running job: with --concurrency above 10 that is expected, not a leak.
    setMaxListeners(0, c.signal);
    return c;
  })();
  private readonly heartbeat: Heartbeat;
  private readonly poller: ControlPoller;
  private readonly completions: CompletionBatcher;
  private startedAt = 0;

  constructor(
    private readonly options: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    super();
    this.completions = new CompletionBatcher(deps.driver);
    this.heartbeat = new Heartbeat({
      driver: deps.driver,
      leaseMs: options.leaseMs,
      leases: () =>
        [...this.running.values()]
          .map((r) => r.job)
          .concat(this.buffer)
          .map((j) => ({ id: j.id, token: j.token })),
      onLost: (id) => {
        this.buffer = this.buffer.filter((j) => j.id !== id);
        this.running.get(id)?.abort.abort(new Error('Lease lost: another worker may hold the job'));
      },
      onError: (error) => this.emit('worker:error', { error, during: 'heartbeat' }),
    });
    this.poller = new ControlPoller(deps.control, (error) =>
      this.emit('worker:error', { error, during: 'control' }),
    );
  }

  /** Asks the worker to stop. The first call drains within --grace; a second abandons at once. */
  stop(reason: StopReason = 'signal'): void {
    if (this.stopReason) {
      this.hardStop.abort();
      return;
    }
    this.stopReason = reason;
    this.emit('worker:stopping', { reason });
    this.nudge();
  }

  /** Stops claiming until resume() (SIGUSR2 / SIGCONT); running jobs go on. */
  pause(): void {
    if (this.pausedBySignal) return;
    this.pausedBySignal = true;
    this.emit('worker:paused', { by: 'signal' });
  }

  resume(): void {
    if (!this.pausedBySignal) return;
    this.pausedBySignal = false;
    this.emit('worker:resumed', { by: 'signal' });
    this.nudge();
  }

  private nudge(): void {
    const previous = this.nudgeController;
    // Nobody took a signal since the last nudge: the loop will look at the state before waiting.
    if (!previous) return;
    this.nudgeController = undefined;
    // A constant reason: the default one is a DOMException with a stack, built per job.
    previous.abort(NUDGE);
  }

  /** Runs until a stop condition; resolves with the process exit code. */
  async run(): Promise<number> {
    const o = this.options;
    this.startedAt = Date.now();
    await this.poller.start();
    this.heartbeat.start();
    this.emit('worker:started', { name: o.name, queues: o.queues, concurrency: o.concurrency });
    try {
      await this.loop();
      await this.releaseBuffer();
      await this.drain();
    } finally {
      this.heartbeat.stop();
      this.poller.stop();
    }
    this.emit('worker:stopped', {
      reason: this.stopReason ?? 'signal',
      exitCode: this.exitCode,
      processed: this.processed,
    });
    return this.exitCode;
  }

  private async loop(): Promise<void> {
    const o = this.options;
    let failures = 0;
    while (!this.stopReason) {
      this.checkLimits();
      if (this.stopReason) break;
      const wait = (this.nudgeController ??= new AbortController()).signal;
      if (this.pausedBySignal) {
        await sleep(o.sleepMs, wait);
        continue;
      }
      let free = o.concurrency - this.running.size;
      if (o.once) free = Math.min(free, 1 - this.claimedCount);
      if (o.maxJobs !== undefined) free = Math.min(free, o.maxJobs - this.claimedCount);
      if (free <= 0) {
        await sleep(o.sleepMs, wait);
        continue;
      }
      // Let timers and I/O run (completion flushes, heartbeats) before a claim, and every few
      // milliseconds while jobs come from the prefetch buffer: with a synchronous driver
      // (SQLite) or a full buffer this loop would otherwise run on promise callbacks alone and
      // starve them. Not after every job: completions that pile up meanwhile go in one batch.
      if (
        this.claimsAhead &&
        (this.buffer.length === 0 || performance.now() - this.yieldedAt > YIELD_EVERY_MS)
      ) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.yieldedAt = performance.now();
        if (this.stopReason) break;
      }
      const queues = o.queues.filter((q) => !this.poller.paused.has(q));
      if (this.buffer.length > 0 && !queues.includes(this.buffer[0]!.queue)) {
        await this.releaseBuffer(); // its queue was paused
      }
      let jobs: ClaimedJob[] = this.buffer.splice(0, free);
      if (jobs.length === 0 && queues.length > 0) {
        try {
          const ahead = this.claimsAhead ? o.prefetch! : 0;
          jobs = await this.deps.driver.claim(queues, free + ahead, o.leaseMs);
          this.buffer = jobs.splice(free);
          failures = 0;
        } catch (error) {
          this.emit('worker:error', { error: toError(error), during: 'claim' });
          // Storage down (a restart, a network cut): back off up to 5 s and try again.
          await sleep(Math.min(5000, 250 * 2 ** failures++), wait);
          continue;
        }
      }
      if (jobs.length === 0) {
        if (this.running.size === 0 && this.settling.size === 0 && (o.stopWhenEmpty || o.once)) {
          this.stop(o.once ? 'once' : 'empty');
          break;
        }
        await this.deps.driver.waitForJobs(queues, o.sleepMs, wait);
        continue;
      }
      this.claimedCount += jobs.length;
      for (const job of jobs) this.start(job);
      if (o.restMs > 0) await sleep(o.restMs, this.hardStop.signal);
    }
  }

  /**
   * Prefetch is on: jobs are claimed ahead, and a job's slot frees when its handler ends (its
   * completion is written while the next job runs). Off, a slot frees once the job is settled.
   */
  private get claimsAhead(): boolean {
    const o = this.options;
    return (o.prefetch ?? 0) > 0 && o.queues.length === 1 && !o.once && o.maxJobs === undefined;
  }

  /** Gives back jobs claimed ahead and not started, attempt refunded. */
  private async releaseBuffer(): Promise<void> {
    const jobs = this.buffer;
    this.buffer = [];
    await Promise.all(
      jobs.map((job) =>
        this.deps.driver
          .release({ id: job.id, token: job.token }, { delayMs: 0, refundAttempt: true })
          .catch((error: unknown) =>
            this.emit('worker:error', { error: toError(error), during: 'release' }),
          ),
      ),
    );
  }

  private checkLimits(): void {
    const o = this.options;
    if (this.stopReason) return;
    if (this.poller.restartRequested) return this.stop('restart');
    if (o.once && this.claimedCount >= 1 && this.running.size === 0) return this.stop('once');
    if (o.maxJobs !== undefined && this.processed >= o.maxJobs) return this.stop('max-jobs');
    if (o.maxTimeMs !== undefined && Date.now() - this.startedAt >= o.maxTimeMs)
      return this.stop('max-time');
    if (o.memoryMb !== undefined && process.memoryUsage.rss() / 1_048_576 > o.memoryMb) {
      this.exitCode = EXIT.MEMORY;
      return this.stop('memory');
    }
  }

  private start(job: ClaimedJob): void {
    const abort = new AbortController();
    const onHardStop = () => abort.abort(new Error('Worker shut down before the job finished'));
    this.hardStop.signal.addEventListener('abort', onHardStop);
    const running: Running = { job, startedAt: Date.now(), abort, done: Promise.resolve() };
    this.running.set(job.id, running);
    this.emit('job:processing', { job });
    const freeSlot = () => {
      if (!this.running.delete(job.id)) return false;
      this.hardStop.signal.removeEventListener('abort', onHardStop);
      this.nudge();
      return true;
    };
    running.done = (async () => {
      try {
        const execution = await execute(job, {
          registry: this.deps.registry,
          shutdown: abort.signal,
          timeoutMs: this.options.timeoutMs,
          tries: this.options.tries,
          backoff: this.options.backoff,
          stuckGraceMs: this.options.stuckGraceMs,
          log: this.deps.log,
          dispatch: this.deps.dispatch,
        });
        if (execution.decision.action === 'complete' && this.claimsAhead) {
          // The handler is done: its slot frees now and the next job starts while the
          // completion is written (batched with others). drain() waits for it.
          const settling = this.settle(running, execution);
          this.settling.add(settling);
          freeSlot();
          try {
            await settling;
          } finally {
            this.settling.delete(settling);
          }
        } else {
          await this.settle(running, execution);
        }
      } catch (error) {
        this.emit('worker:error', { error: toError(error), during: 'settle' });
      } finally {
        this.processed++;
        // A completion written after its slot freed can end an idle wait: --stop-when-empty
        // waits for it, and a driver may hand over the next job with a completion.
        if (!freeSlot() && this.running.size === 0) this.nudge();
      }
    })();
  }

  private async settle(running: Running, execution: Execution): Promise<void> {
    const { job } = running;
    const { driver } = this.deps;
    const lease = { id: job.id, token: job.token };
    const decision: Decision = execution.decision;
    const durationMs = Date.now() - running.startedAt;
    switch (decision.action) {
      case 'complete': {
        const ok = await this.completions.complete(lease);
        if (ok) this.emit('job:processed', { job, durationMs });
        else this.emit('job:lost', { job });
        return;
      }
      case 'retry': {
        const ok = await driver.release(lease, {
          delayMs: decision.delayMs,
          refundAttempt: decision.refund,
          error: decision.error.message,
        });
        if (ok)
          this.emit('job:released', {
            job,
            durationMs,
            delayMs: decision.delayMs,
            error: decision.error,
            refunded: decision.refund,
          });
        else this.emit('job:lost', { job });
        return;
      }
      case 'fail': {
        const ok = await driver.fail(
          lease,
          failedRecord(driver.connection, job, decision.reason, decision.error),
        );
        if (!ok) return void this.emit('job:lost', { job });
        this.emit('job:failed', {
          job,
          durationMs,
          reason: decision.reason,
          error: decision.error,
        });
        // failed() runs once: only the worker whose write moved the job to failed_jobs calls it.
        if (execution.definition?.failed && execution.context) {
          try {
            await execution.definition.failed(execution.payload, decision.error, execution.context);
          } catch (error) {
            this.emit('worker:error', { error: toError(error), during: `failed() of ${job.name}` });
          }
        }
        return;
      }
      case 'abandon': {
        const ok = await driver.release(lease, { delayMs: 0, error: decision.error.message });
        this.emit(ok ? 'job:abandoned' : 'job:lost', { job, durationMs, error: decision.error });
        return;
      }
      case 'stuck': {
        this.emit('job:stuck', { job, error: decision.error });
        this.exitCode = EXIT.STUCK;
        this.stop('stuck');
        return;
      }
    }
  }

  /** Waits for in-flight jobs up to --grace, then abandons what still runs. */
  private async drain(): Promise<void> {
    if (this.running.size === 0 && this.settling.size === 0) return;
    const all = () =>
      Promise.all([...this.running.values()].map((r) => r.done).concat([...this.settling]));
    const graceOver = sleep(this.options.graceMs, this.hardStop.signal);
    await Promise.race([all(), graceOver]);
    if (this.running.size > 0) {
      this.hardStop.abort();
      await all();
    }
  }
}

const NUDGE = Object.freeze({ reason: 'nudge' });

/** How long the claim loop may run jobs from its prefetch buffer without yielding, ms. */
const YIELD_EVERY_MS = 5;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
