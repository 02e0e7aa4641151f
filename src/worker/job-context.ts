import type { DispatchFn, JobContext, JobLogger } from '../jobs/types.js';

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
    readonly log: JobLogger,
    readonly dispatch: DispatchFn,
  ) {
    // An own, enumerable getter (not one on the prototype), so `{ ...ctx }` and
    // `Object.keys(ctx)` still carry `signal`, as they would on a plain object. One shared
    // descriptor whose getter reads `this`: a new closure per job made this constructor four
    // times as slow.
    Object.defineProperty(this, 'signal', SIGNAL);
  }

  declare readonly signal: AbortSignal;

  abort(reason: unknown): void {
    if (this.controller) this.controller.abort(reason);
    else this.reason ??= { value: reason };
  }
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
