import type { DispatchFn, JobContext, JobLogger } from '../jobs/types.js';
import type { ClaimedJob } from '../queue/driver.js';
import { ProgressMeter, type ProgressWriter } from './progress.js';

/**
 * The `ctx` a handler gets. Its AbortController is made on the first read of `signal`: most
 * handlers never look at it, and one controller per job was the largest cost of running a
 * short job. An abort before that read is kept and applied when the signal is made, so a
 * handler sees the same aborted signal, with the same reason, either way.
 */
export class LazyJobContext implements JobContext {
  /** @internal */ controller?: AbortController;
  /** @internal */ reason?: { value: unknown };

  constructor(
    readonly attempt: number,
    readonly jobId: string,
    readonly queue: string,
    /** The worker's logger; `log` is it with this job's fields. */
    private readonly workerLog: JobLogger,
    readonly dispatch: DispatchFn,
    /** For ctx.progress: the job, and how its progress is written (none: kept in memory). */
    private readonly job?: ClaimedJob,
    private readonly progressWriter?: ProgressWriter,
  ) {
    // Own, enumerable getters (not ones on the prototype), so `{ ...ctx }` and
    // `Object.keys(ctx)` still carry `signal` and `log`, as they would on a plain object. Shared
    // descriptors whose getters read `this`: a new closure per job made this constructor four
    // times as slow.
    // Two defineProperty calls: one defineProperties of both cost three times as much.
    Object.defineProperty(this, 'signal', SIGNAL);
    Object.defineProperty(this, 'log', LOG);
  }

  declare readonly signal: AbortSignal;

  /**
   * The handler's logger: each line carries the job (`job`: id, name, queue, attempt), as the
   * worker's own lines about it do. Made on the first read: most handlers never log.
   */
  declare readonly log: JobLogger;
  /** @internal */ boundLog?: JobLogger;

  /** @internal */ makeLog(): JobLogger {
    const base = this.workerLog;
    const job = { id: this.jobId, name: this.job?.name, queue: this.queue, attempt: this.attempt };
    // The job's fields win: a line must not be pinned on another job by a field of the same name.
    const fields = (extra?: Record<string, unknown>) => (extra ? { ...extra, job } : { job });
    return {
      debug: (msg, extra) => base.debug(msg, fields(extra)),
      info: (msg, extra) => base.info(msg, fields(extra)),
      warn: (msg, extra) => base.warn(msg, fields(extra)),
      error: (msg, extra) => base.error(msg, fields(extra)),
    };
  }

  /** Made on the first ctx.progress call: a job that reports none pays nothing. */
  /** @internal */ meter?: ProgressMeter;

  progress(value: number | Record<string, unknown>): Promise<void> {
    this.meter ??= new ProgressMeter(
      this.job ?? ({ id: this.jobId, token: '' } as ClaimedJob),
      this.job ? this.progressWriter : undefined,
      this.log,
    );
    return this.meter.report(value);
  }

  /** Writes a held progress value before the job settles; undefined when none was reported. */
  flushProgress(): Promise<void> | undefined {
    return this.meter?.flush();
  }

  abort(reason: unknown): void {
    if (this.controller) this.controller.abort(reason);
    else this.reason ??= { value: reason };
  }
}

/** The last ctx.progress value a job's handler reported (JSON text); undefined for none. */
export function lastProgress(context: JobContext | undefined): string | undefined {
  return context instanceof LazyJobContext ? context.meter?.latest : undefined;
}

const SIGNAL: PropertyDescriptor & ThisType<LazyJobContext> = {
  enumerable: true,
  get(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  },
};

const LOG: PropertyDescriptor & ThisType<LazyJobContext> = {
  enumerable: true,
  get(): JobLogger {
    return (this.boundLog ??= this.makeLog());
  },
};
