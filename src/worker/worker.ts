import { EventEmitter } from 'node:events';
import { failedRecord } from '../failed/record.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { DispatchFn, JobLogger } from '../jobs/types.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import type { WorkerEvents, StopReason } from './events.js';
import {
  execute,
  toError,
  type Decision,
  type ExecuteOptions,
  type Execution,
  type Interruptible,
} from './executor.js';
import { CompletionBatcher, completed } from './completions.js';
import { Prefetch } from './prefetch.js';
import { SharedDeadlines } from './deadlines.js';
import { Heartbeat } from './heartbeat.js';
import { EXIT, type WorkerOptions } from './options.js';
import { ControlPoller, type WorkerControl } from './control-poller.js';
import { UsageError } from '../errors.js';
import { sleep } from '../util/sleep.js';

export interface WorkerDeps {
  driver: QueueDriver;
  registry: JobRegistry;
  /** Paused queues and the restart signal, shared by all workers. */
  control: WorkerControl;
  log: JobLogger;
  dispatch: DispatchFn;
}

/** A job whose handler runs; `interrupt` (set by execute) abandons it: lease lost, or grace over. */
interface Running extends Interruptible {
  job: ClaimedJob;
  startedAt: number;
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
  private readonly prefetch: Prefetch;
  /** performance.now() when the claim loop last let the event loop run. */
  private yieldedAt = 0;
  private stopReason?: StopReason;
  private exitCode: number = EXIT.OK;
  private processed = 0;
  private claimedCount = 0;
  private pausedBySignal = false;
  /**
   * Counts nudges (a slot freed, stop, resume): the loop notes the count before it looks at the
   * state, and does not wait if it moved meanwhile. A job ends with a nudge, so a nudge only
   * resolves the loop's current wait, if any, and makes nothing.
   */
  private nudges = 0;
  /** Ends the loop's current idle wait. */
  private wake?: () => void;
  /**
   * Ends an idle wait at least every --sleep, so the loop looks at its limits (max time,
   * memory, restart) while slots are full: one interval for the run, not a timer per wait.
   */
  private idleTicker?: NodeJS.Timeout;
  /** Aborted by a nudge; only made for the driver's waitForJobs, which takes a signal. */
  private nudgeController?: AbortController;
  /** Aborted at the end of --grace or on a second signal: abandon in-flight jobs now. */
  private readonly hardStop = new AbortController();
  /** The same for every job: made once, not per job. */
  private readonly executeOptions: ExecuteOptions;
  /** Every running job's timeout, on one timer. */
  private readonly deadlines = new SharedDeadlines();
  private readonly heartbeat: Heartbeat;
  private readonly poller: ControlPoller;
  private readonly completions: CompletionBatcher;
  private startedAt = 0;
  /**
   * Jobs claimed ahead of free slots (WorkerOptions.prefetch); 0 when prefetch is off or
   * cannot apply (several queues, --once, --max-jobs).
   */
  private readonly ahead: number;
  /** Without prefetch, a claim may overlap the previous job's completion (settlesBehind). */
  private readonly claimsWhileSettling: boolean;

  constructor(
    private readonly options: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    super();
    this.completions = new CompletionBatcher(deps.driver);
    this.ahead =
      options.queues.length === 1 && !options.once && options.maxJobs === undefined
        ? Math.max(0, options.prefetch ?? 0)
        : 0;
    this.claimsWhileSettling =
      deps.driver.connection === 'database' && !options.once && options.maxJobs === undefined;
    this.prefetch = new Prefetch({
      driver: deps.driver,
      concurrency: options.concurrency,
      ahead: this.ahead,
      leaseMs: options.leaseMs,
      running: () => this.running.size,
      onError: (error) => this.emit('worker:error', { error: toError(error), during: 'claim' }),
      onRefilled: () => this.nudge(),
    });
    this.executeOptions = {
      registry: deps.registry,
      timeoutMs: options.timeoutMs,
      tries: options.tries,
      backoff: options.backoff,
      stuckGraceMs: options.stuckGraceMs,
      schedule: this.deadlines.schedule,
      log: deps.log,
      dispatch: deps.dispatch,
    };
    this.hardStop.signal.addEventListener('abort', () => {
      for (const r of this.running.values()) r.interrupt?.();
    });
    this.heartbeat = new Heartbeat({
      driver: deps.driver,
      leaseMs: options.leaseMs,
      leases: () =>
        [...this.running.values()]
          .map((r) => r.job)
          .concat(this.prefetch.held())
          .map((j) => ({ id: j.id, token: j.token })),
      onLost: (id) => {
        this.prefetch.lose(id);
        this.running.get(id)?.interrupt?.();
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
    this.nudges++;
    this.endIdle();
    const controller = this.nudgeController;
    this.nudgeController = undefined;
    // A constant reason: the default one is a DOMException with a stack.
    controller?.abort(NUDGE);
  }

  /** Waits for a nudge or the idle ticker; at once if nudged since the loop noted `seen`. */
  private idle(seen: number): Promise<void> {
    if (this.nudges !== seen) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private endIdle(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** A signal for the driver's waitForJobs that a nudge aborts, already aborted if one came. */
  private nudgeSignal(seen: number): AbortSignal {
    if (this.nudges !== seen) return AbortSignal.abort(NUDGE);
    return (this.nudgeController ??= new AbortController()).signal;
  }

  /** Runs until a stop condition; resolves with the process exit code. */
  async run(): Promise<number> {
    const o = this.options;
    this.startedAt = Date.now();
    await this.poller.start();
    this.heartbeat.start();
    this.idleTicker = setInterval(() => this.endIdle(), o.sleepMs);
    this.emit('worker:started', { name: o.name, queues: o.queues, concurrency: o.concurrency });
    try {
      await this.loop();
      await this.releaseBuffer();
      await this.drain();
    } finally {
      clearInterval(this.idleTicker);
      this.deadlines.clear();
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
      const seen = this.nudges;
      if (this.pausedBySignal) {
        await this.idle(seen);
        continue;
      }
      let free = o.concurrency - this.running.size;
      if (o.once) free = Math.min(free, 1 - this.claimedCount);
      if (o.maxJobs !== undefined) free = Math.min(free, o.maxJobs - this.claimedCount);
      if (free <= 0) {
        await this.idle(seen);
        continue;
      }
      // Let timers and I/O run (completion flushes, heartbeats) before a claim, and every few
      // milliseconds while jobs come from the prefetch buffer: with a synchronous driver
      // (SQLite) or a full buffer this loop would otherwise run on promise callbacks alone and
      // starve them. Not after every job: completions that pile up meanwhile go in one batch.
      if (
        this.ahead > 0 &&
        (this.prefetch.size === 0 || performance.now() - this.yieldedAt > YIELD_EVERY_MS)
      ) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.yieldedAt = performance.now();
        if (this.stopReason) break;
      }
      const paused = this.poller.paused;
      const queues = paused.size === 0 ? o.queues : o.queues.filter((q) => !paused.has(q));
      const next = this.prefetch.peek();
      if (next && !queues.includes(next.queue)) {
        await this.releaseBuffer(); // its queue was paused
      }
      let jobs = this.prefetch.take(free);
      if (jobs.length === 0 && this.prefetch.refilling) {
        await this.prefetch.refilling;
        continue;
      }
      if (jobs.length === 0 && queues.length > 0) {
        try {
          jobs = await this.deps.driver.claim(queues, free + this.ahead, o.leaseMs);
          this.prefetch.fill(jobs.splice(free));
          failures = 0;
        } catch (error) {
          // A claim the storage refuses outright (a queue name it cannot hold) would fail the
          // same way forever: stop, and let the caller report it.
          if (error instanceof UsageError) throw error;
          this.emit('worker:error', { error: toError(error), during: 'claim' });
          // Storage down (a restart, a network cut): back off up to 5 s and try again.
          await sleep(Math.min(5000, 250 * 2 ** failures++), this.nudgeSignal(seen));
          continue;
        }
      }
      if (jobs.length === 0) {
        if (this.running.size === 0 && this.settling.size === 0 && (o.stopWhenEmpty || o.once)) {
          this.stop(o.once ? 'once' : 'empty');
          break;
        }
        await this.deps.driver.waitForJobs(queues, o.sleepMs, this.nudgeSignal(seen));
        continue;
      }
      this.claimedCount += jobs.length;
      this.start(jobs);
      if (!this.stopReason) this.prefetch.topUp(queues);
      if (o.restMs > 0) await sleep(o.restMs, this.hardStop.signal);
    }
  }

  /** Gives back jobs claimed ahead and not started, attempt refunded. */
  private async releaseBuffer(): Promise<void> {
    const jobs = await this.prefetch.drain();
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

  /**
   * Starts jobs in two passes: every job is running, its event out, before the first handler
   * is called (handlers are called directly, so one that blocks the event loop would
   * otherwise hold back the others' start, and their events, until it ends).
   */
  private start(jobs: ClaimedJob[]): void {
    const listened = this.listenerCount('job:processing') > 0;
    const startedAt = Date.now();
    const started = jobs.map((job): Running => {
      const running: Running = { job, startedAt, done: DONE };
      this.running.set(job.id, running);
      // The payload object is made only when someone listens: a worker without renderers (an
      // embedded one, the benchmarks) pays nothing per job for events.
      if (listened) this.emit('job:processing', { job });
      return running;
    });
    for (const running of started) running.done = this.runJob(running);
  }

  private async runJob(running: Running): Promise<void> {
    const { job } = running;
    try {
      const execution = await execute(job, this.executeOptions, running);
      if (execution.decision.action === 'complete' && this.settlesBehind()) {
        // The handler is done: its slot frees now and the next job starts (or is claimed)
        // while the completion is written, batched with others. drain() waits for it.
        const settling = this.settle(running, execution);
        this.settling.add(settling);
        this.freeSlot(job.id);
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
      if (!this.freeSlot(job.id) && this.running.size === 0) this.nudge();
    }
  }

  private freeSlot(id: string): boolean {
    if (!this.running.delete(id)) return false;
    this.nudge();
    return true;
  }

  /**
   * Whether a completed job's slot frees before its completion is written, so the next job
   * starts, or is claimed, meanwhile. With prefetch, on any driver. Without, on the database
   * driver only: there the next claim is a round trip of its own and overlapping the two nearly
   * doubles the rate at concurrency 1, whereas the redis driver fetches the next job with the
   * completion itself. Never with --once or --max-jobs, which count settled jobs; and at most
   * as many completions in flight as jobs held (concurrency + prefetch): a slow storage holds
   * the worker back rather than pile up jobs that ran but are not recorded, and a buffer's last
   * job does not wait for the buffer's completions before the next claim.
   */
  private settlesBehind(): boolean {
    const o = this.options;
    return (
      (this.ahead > 0 || this.claimsWhileSettling) &&
      this.settling.size < o.concurrency + this.ahead
    );
  }

  private async settle(running: Running, execution: Execution): Promise<void> {
    const { job } = running;
    const { driver } = this.deps;
    const decision: Decision = execution.decision;
    if (decision.action === 'complete') {
      const durationMs = Date.now() - running.startedAt;
      // The job is its own lease (id and token): no object per completion.
      const ok = completed(await this.completions.complete(job), job.id);
      if (!ok) this.emit('job:lost', { job });
      else if (this.listenerCount('job:processed') > 0)
        this.emit('job:processed', { job, durationMs });
      return;
    }
    const lease = { id: job.id, token: job.token };
    const durationMs = Date.now() - running.startedAt;
    switch (decision.action) {
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
const DONE = Promise.resolve();

/** How long the claim loop may run jobs from its prefetch buffer without yielding, ms. */
const YIELD_EVERY_MS = 5;
