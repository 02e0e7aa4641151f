import { EventEmitter } from 'node:events';
import type { ClaimedJob } from '../queue/driver.js';
import type { WorkerEvents, StopReason } from './events.js';
import { toError, triesOf } from './executor.js';
import { QueueSlots } from './queue-slots.js';
import { Prefetch } from './prefetch.js';
import { Heartbeat } from './heartbeat.js';
import { DEFAULT_STORAGE_TIMEOUT_MS, EXIT, type WorkerOptions } from './options.js';
import type { WorkerDeps } from './deps.js';
import { ControlPoller } from './control-poller.js';
import { JobRuns } from './job-runs.js';
import { StorageWatch, storageBackoffMs, UNKNOWN_STORAGE } from './storage-health.js';
import { Nudges } from './nudges.js';
import { IsolationLine } from './isolation.js';
import { freeSlots, idleWaiting, limitReached } from './stop-conditions.js';
import { giveBack } from './shutdown.js';
import { faultDuring, uncaughtError, type FaultOrigin } from './handler-faults.js';
import { UsageError } from '../errors.js';
import { sleep } from '../util/sleep.js';
import { CancelWatch } from '../cancel/cancel-watch.js';
import { timerDelay } from '../util/timers.js';

export type { WorkerDeps } from './deps.js';

/**
 * Claims jobs and runs them, `concurrency` at a time, until told to stop. It emits events and
 * never prints; `run queue:work` renders them. This file is the claim loop and the worker's
 * life (start, pause, stop, faults); running each claimed job to its outcome is job-runs.ts.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  /** Running jobs, by id and per capped queue (queue-slots.ts). */
  private readonly running: QueueSlots;
  /** Starts claimed jobs and writes their outcomes (job-runs.ts). */
  private readonly runs: JobRuns;
  /** Jobs claimed ahead (options.prefetch), not started yet, leases held. */
  private readonly prefetch: Prefetch;
  /** Jobs back from a lost lease, run one at a time with nothing beside them. */
  private readonly isolation: IsolationLine;
  /** performance.now() when the claim loop last let the event loop run. */
  private yieldedAt = 0;
  private stopReason?: StopReason;
  private exitCode: number = EXIT.OK;
  private processed = 0;
  private claimedCount = 0;
  private pausedBySignal = false;
  /** Wakes the loop's idle waits: a slot freed, stop, resume. */
  private readonly nudges = new Nudges();
  /**
   * Ends an idle wait at least every --sleep, so the loop looks at its limits (max time,
   * memory, restart) while slots are full: one interval for the run, not a timer per wait.
   */
  private idleTicker?: NodeJS.Timeout;
  /** Aborted at the end of --grace or on a second signal: abandon in-flight jobs now. */
  private readonly hardStop = new AbortController();
  private readonly heartbeat: Heartbeat;
  private readonly poller: ControlPoller;
  /** Storage failures: stop at once, or after --storage-timeout of them. */
  private readonly storage: StorageWatch;
  /** Start of the last lease renewal that went through (epoch ms); see leasesHeldUntil. */
  private renewedAt = 0;
  /** Faults reported so far (handler-faults.ts), to bound the reports of a job that loops. */
  private faults = 0;
  private startedAt = 0;
  /**
   * Jobs claimed ahead of free slots (WorkerOptions.prefetch); 0 when prefetch is off or
   * cannot apply (several queues, --once, --max-jobs).
   */
  private readonly ahead: number;

  constructor(
    private readonly options: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    super();
    this.storage = new StorageWatch(
      options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS,
      deps.storage ?? UNKNOWN_STORAGE,
      {
        report: (error, during) => this.emit('worker:error', { error, during }),
        fail: (error) => this.failed(error, 'storage', EXIT.STORAGE),
      },
    );
    this.running = new QueueSlots(options);
    // Jobs held ahead would take slots of a globally capped queue without running.
    const single = options.queues.length === 1 && !this.running.capsGlobally;
    const prefetch = single && !options.once && options.maxJobs === undefined;
    this.ahead = prefetch ? Math.max(0, options.prefetch ?? 0) : 0;
    this.prefetch = new Prefetch({
      driver: deps.driver,
      concurrency: options.concurrency,
      ahead: this.ahead,
      leaseMs: options.leaseMs,
      running: () => this.running.size,
      onError: (error) => void this.storage.trouble(error, 'claim'),
      onRefilled: () => this.nudges.nudge(),
    });
    const { tries, queuePolicies } = options;
    this.isolation = new IsolationLine(deps.driver, (job) =>
      triesOf(job, { tries, queuePolicies }),
    );
    this.runs = new JobRuns({
      options,
      deps,
      events: this,
      running: this.running,
      isolation: this.isolation,
      nudges: this.nudges,
      storage: this.storage,
      hardStop: this.hardStop,
      leasesHeldUntil: () => this.renewedAt + options.leaseMs,
      ahead: this.ahead,
      stuck: () => {
        this.exitCode = EXIT.STUCK;
        this.stop('stuck');
      },
      ended: (putBack) => {
        // A put-back (RetryAfter: a rate limit, a lock, a breaker) is no job done: --max-jobs
        // and the count go on without it.
        if (putBack) this.claimedCount--;
        else this.processed++;
      },
    });
    this.heartbeat = new Heartbeat({
      driver: deps.driver,
      leaseMs: options.leaseMs,
      leases: () =>
        [...this.running.values()]
          .map((r) => r.job)
          .concat(this.prefetch.held(), this.isolation.held())
          .map((j) => ({ id: j.id, token: j.token })),
      onLost: (id) => {
        this.prefetch.lose(id);
        this.isolation.lose(id);
        this.running.get(id)?.interrupt?.();
      },
      onError: (error) => void this.storage.trouble(error, 'heartbeat'),
      onRenewed: (startedAt) => {
        this.renewedAt = Math.max(this.renewedAt, startedAt);
        this.storage.ok();
      },
    });
    this.poller = new ControlPoller(deps.control, (error) =>
      this.emit('worker:error', { error, during: 'control' }),
    );
    const cancels = new CancelWatch(deps.driver, () => this.running.values());
    this.poller.also(() => cancels.poll());
  }

  private readonly miscount = (error: unknown) =>
    this.emit('worker:error', { error: toError(error), during: 'counting waiting jobs' });

  /** Asks the worker to stop. The first call drains within --grace; a second abandons at once. */
  stop(reason: StopReason = 'signal'): void {
    if (this.stopReason) return this.abandon();
    this.beginStop({ reason });
  }

  /** Whether the worker has been asked to stop (it may still be draining). */
  get stopping(): boolean {
    return this.stopReason !== undefined;
  }

  /** Gives up on running jobs now: they are aborted and released (a second stop()). */
  abandon(): void {
    this.hardStop.abort();
  }

  private beginStop(event: WorkerEvents['worker:stopping'][0]): void {
    this.stopReason = event.reason;
    this.emit('worker:stopping', event);
    this.nudges.nudge();
  }

  /**
   * Stops the worker on a failure, with its exit code: a drain, as on a signal. Already
   * stopping, the failure is reported and its code kept if the stop had none.
   */
  private failed(error: Error, reason: 'storage' | 'uncaught', exitCode: number): void {
    if (this.exitCode === EXIT.OK) this.exitCode = exitCode;
    if (this.stopReason) this.emit('worker:error', { error, during: `stopping (${reason})` });
    else this.beginStop({ reason, error });
  }

  /**
   * A job's code failed outside its promise (handler-faults.ts): `job` is the job whose handler
   * started that code when `tracked` (none: code outside any job); untracked, the running jobs
   * are named. A rejection nobody handled is reported and the worker goes on. An uncaught
   * exception fails that job's attempt if it still runs (as if its handler had thrown it) and
   * stops the worker (exit 15): its other jobs finish within --grace.
   */
  fault(kind: 'rejection' | 'exception', error: Error, job?: ClaimedJob, tracked = true): void {
    const running = job ? this.running.get(job.id) : undefined;
    const runs = running !== undefined && running.job === job;
    const origin: FaultOrigin = tracked
      ? { tracked, job, runs }
      : { tracked, running: [...this.running.values()].map((r) => r.job) };
    if (kind === 'exception') {
      if (runs) running.fault?.(error);
      if (this.stopReason !== 'uncaught')
        return this.failed(uncaughtError(error, origin), 'uncaught', EXIT.UNCAUGHT);
    }
    if (++this.faults <= MAX_FAULT_REPORTS)
      this.emit('worker:error', { error, during: faultDuring(kind, origin) });
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
    this.nudges.nudge();
  }

  /** Runs until a stop condition; resolves with the process exit code. */
  async run(): Promise<number> {
    const o = this.options;
    this.startedAt = Date.now();
    this.renewedAt = this.startedAt;
    try {
      await this.poller.start();
    } catch (error) {
      this.storage.failed(error, 'starting');
    }
    this.heartbeat.start();
    this.idleTicker = setInterval(() => this.nudges.endIdle(), timerDelay(o.sleepMs));
    const { name, queues, concurrency } = o;
    const caps = this.running.describe();
    if (!this.stopReason) this.emit('worker:started', { name, queues, concurrency, caps });
    try {
      await this.loop();
      await this.releaseBuffer();
      await this.runs.drain();
    } finally {
      clearInterval(this.idleTicker);
      this.runs.clearDeadlines();
      this.heartbeat.stop();
      this.poller.stop();
    }
    const { exitCode, processed } = this;
    this.emit('worker:stopped', { reason: this.stopReason ?? 'signal', exitCode, processed });
    return exitCode;
  }

  private async loop(): Promise<void> {
    const o = this.options;
    let failures = 0;
    while (!this.stopReason) {
      this.checkLimits();
      if (this.stopReason) break;
      const seen = this.nudges.count;
      if (this.pausedBySignal) {
        await this.nudges.idle(seen);
        continue;
      }
      if (this.isolation.blocking) {
        await this.runIsolated(seen);
        continue;
      }
      const free = freeSlots(o, this.running.size, this.claimedCount);
      if (free <= 0) {
        await this.nudges.idle(seen);
        continue;
      }
      // Let timers, signals and I/O run (completion flushes, heartbeats, output, SIGTERM) every
      // few milliseconds, and before each claim of a prefetching worker: with a synchronous
      // driver (SQLite) this loop can run on promise callbacks alone (a job that is released
      // and claimed again at once, a full buffer) and would starve them all. Not after every
      // job: completions that pile up meanwhile go in one batch.
      if (
        performance.now() - this.yieldedAt > YIELD_EVERY_MS ||
        (this.ahead > 0 && this.prefetch.size === 0)
      ) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.yieldedAt = performance.now();
        if (this.stopReason) break;
      }
      const paused = this.poller.paused;
      const unpaused = paused.size === 0 ? o.queues : o.queues.filter((q) => !paused.has(q));
      const queues = this.running.open(unpaused);
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
          const options = this.running.claimOptions();
          jobs = await this.deps.driver.claim(queues, free + this.ahead, o.leaseMs, options);
          this.prefetch.fill(jobs.splice(free));
          this.storage.ok();
          failures = 0;
        } catch (error) {
          // A claim the storage refuses outright (a queue name it cannot hold) would fail the
          // same way forever: stop, and let the caller report it.
          if (error instanceof UsageError) throw error;
          // Storage down (a restart, a network cut): back off up to 5 s and try again, until
          // --storage-timeout; read-only, corrupt, replaced: stop now.
          if (!this.storage.trouble(error, 'claim')) break;
          await sleep(storageBackoffMs(failures++), this.nudges.signal(seen));
          continue;
        }
      }
      this.claimedCount += jobs.length;
      jobs = this.isolation.sort(jobs, (job) => this.emit('job:isolated', { job }));
      if (jobs.length === 0 && this.isolation.blocking) continue;
      if (jobs.length === 0) {
        if (this.runs.idle && (o.stopWhenEmpty || o.once)) {
          // Empty, paused with jobs waiting, or jobs behind a global cap (wait): idleWaiting.
          const { driver } = this.deps;
          const idle = await idleWaiting(
            driver,
            o.queues,
            paused,
            this.running.capped,
            this.miscount,
          );
          if (idle.waiting > 0) this.beginStop({ reason: 'paused', paused: idle.paused });
          else if (idle.capped === 0) this.stop(o.once ? 'once' : 'empty');
          if (idle.waiting > 0 || idle.capped === 0) break;
        }
        try {
          const waitMs = timerDelay(o.sleepMs);
          await this.deps.driver.waitForJobs(queues, waitMs, this.nudges.signal(seen));
        } catch (error) {
          if (!this.storage.trouble(error, 'wait')) break;
          await sleep(storageBackoffMs(failures++), this.nudges.signal(seen));
        }
        continue;
      }
      this.runs.start(jobs);
      if (!this.stopReason) this.prefetch.topUp(queues);
      if (o.restMs > 0) await sleep(o.restMs, this.hardStop.signal);
    }
  }

  /**
   * Starts the isolation line's next job once nothing else runs and every outcome is written
   * (a completion still on its way would be lost with the job if the next one kills the
   * worker, and charged to it). A job's end nudges the loop; a storage error is ridden out.
   */
  private async runIsolated(seen: number): Promise<void> {
    if (!this.runs.idle) return this.nudges.idle(seen);
    try {
      const job = await this.isolation.next((lost) => this.emit('job:lost', { job: lost }));
      if (job) this.runs.start([job]);
    } catch (error) {
      if (this.storage.trouble(error, 'marking a job to run alone'))
        await sleep(1000, this.nudges.signal(seen));
    }
  }

  /** Gives back jobs claimed and not started (ahead, or waiting to run alone), attempt refunded. */
  private async releaseBuffer(): Promise<void> {
    const jobs = (await this.prefetch.drain()).concat(this.isolation.drain());
    await giveBack(this.deps.driver, jobs, (error) =>
      this.emit('worker:error', { error: toError(error), during: 'release' }),
    );
  }

  private checkLimits(): void {
    if (this.stopReason) return;
    const reason = limitReached(this.options, {
      claimed: this.claimedCount,
      processed: this.processed,
      busy: this.running.size > 0 || this.isolation.blocking,
      startedAt: this.startedAt,
      restartRequested: this.poller.restartRequested,
    });
    if (reason === 'memory') this.exitCode = EXIT.MEMORY;
    if (reason) this.stop(reason);
  }
}

/** How long the claim loop may run without yielding to the event loop, ms. */
const YIELD_EVERY_MS = 5;

/** Faults (handler-faults.ts) reported per run; past it they only count. */
const MAX_FAULT_REPORTS = 20;
