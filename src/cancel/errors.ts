/**
 * The reason a cancelled job's `ctx.signal` aborts with (`run queue:cancel` while it ran). A
 * handler may stop early on it; whatever the handler then returns or throws, the job ends
 * cancelled: deleted from its queue, not failed, not retried (docs/lifecycle.md).
 */
export class JobCancelledError extends Error {
  constructor(
    readonly jobId: string,
    readonly jobName: string,
    /** Who asked and why, as given to `run queue:cancel`. */
    readonly reason: string,
  ) {
    super(`Job #${jobId} (${jobName}) was cancelled: ${reason}`);
    this.name = 'JobCancelledError';
  }
}
