import { JobsmithError } from '../../errors.js';

/**
 * A bulk push that failed after some of its batches were stored (Redis, where each batch is one
 * MULTI: see QueueDriver.pushStream). `stored` jobs, the first ones in order, are in the queue;
 * none after them.
 */
export class PartialPushError extends JobsmithError {
  constructor(
    /** How many jobs, from the first, were stored before the failure. */
    readonly stored: number,
    cause: unknown,
  ) {
    super(
      `${stored.toLocaleString('en-US')} job(s) were stored before the push failed: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}
