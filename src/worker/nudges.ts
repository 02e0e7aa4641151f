/**
 * Wakes a worker's claim loop from its idle waits. Counts nudges (a slot freed, stop, resume):
 * the loop notes the count before it looks at the state, and does not wait if it moved
 * meanwhile. A job ends with a nudge, so a nudge only resolves the loop's current wait, if any,
 * and makes nothing.
 */
export class Nudges {
  count = 0;
  /** Ends the loop's current idle wait. */
  private wake?: () => void;
  /** Aborted by a nudge; only made for the driver's waitForJobs, which takes a signal. */
  private controller?: AbortController;

  nudge(): void {
    this.count++;
    this.endIdle();
    const controller = this.controller;
    this.controller = undefined;
    // A constant reason: the default one is a DOMException with a stack.
    controller?.abort(NUDGE);
  }

  /** Waits for a nudge or endIdle(); at once if nudged since the loop noted `seen`. */
  idle(seen: number): Promise<void> {
    if (this.count !== seen) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Ends the current idle wait, if any, without counting a nudge (the idle ticker). */
  endIdle(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** A signal for the driver's waitForJobs that a nudge aborts, already aborted if one came. */
  signal(seen: number): AbortSignal {
    if (this.count !== seen) return AbortSignal.abort(NUDGE);
    return (this.controller ??= new AbortController()).signal;
  }
}

const NUDGE = Object.freeze({ reason: 'nudge' });
