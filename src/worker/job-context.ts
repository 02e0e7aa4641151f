import type { BatchContext, DispatchFn, JobContext, JobLogger } from '../jobs/types.js';
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
    // An own, enumerable getter (not one on the prototype), so `{ ...ctx }` and
    // `Object.keys(ctx)` still carry `signal`, as they would on a plain object. One shared
    // descriptor whose getter reads `this`: a new closure per job made this constructor four
    // times as slow.
    Object.defineProperty(this, 'signal', SIGNAL);
    // A plain field, not a second getter: each defineProperty cost about 80 ns a job.
    this.log = new BoundJobLogger(workerLog, this);
  }

  declare readonly signal: AbortSignal;

  /**
   * Set for a job of a batch or a batch callback (src/workflows/batches/worker-hooks.ts):
   * declared, not a field, so that other jobs carry no property for it.
   */
  declare batch?: BatchContext;

  /**
   * The handler's logger: each line carries the job (`job`: id, name, queue, attempt), as the
   * worker's own lines about it do. Its methods are on its prototype and its fields are made
   * on the first line: most handlers never log.
   */
  readonly log: JobLogger;

  /** @internal The job's fields for log lines. */
  jobFields(): { id: string; name: string | undefined; queue: string; attempt: number } {
    return { id: this.jobId, name: this.job?.name, queue: this.queue, attempt: this.attempt };
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

/** ctx.log: the worker's logger with the job's fields on each line. */
class BoundJobLogger implements JobLogger {
  private job?: ReturnType<LazyJobContext['jobFields']>;

  constructor(
    private readonly base: JobLogger,
    private readonly context: LazyJobContext,
  ) {}

  // The job's fields win: a line must not be pinned on another job by a field of the same name.
  private fields(extra?: Record<string, unknown>): Record<string, unknown> {
    const job = (this.job ??= this.context.jobFields());
    return extra ? { ...extra, job } : { job };
  }

  // Getters that return the method bound: `const { info } = ctx.log` works, as it did when
  // these were four closures made per job (most jobs never log, so they are made per line).
  get debug(): JobLogger['debug'] {
    return (msg, extra) => this.base.debug(msg, this.fields(extra));
  }

  get info(): JobLogger['info'] {
    return (msg, extra) => this.base.info(msg, this.fields(extra));
  }

  get warn(): JobLogger['warn'] {
    return (msg, extra) => this.base.warn(msg, this.fields(extra));
  }

  get error(): JobLogger['error'] {
    return (msg, extra) => this.base.error(msg, this.fields(extra));
  }
}
