import { MAX_TIMER_MS, timerDelay } from '../util/timers.js';

/** A pending deadline; `cancel` it when the job ends first. */
export interface Deadline {
  cancel(): void;
}

/** Schedules `fire` in `ms`, like setTimeout: the executor's timeouts go through one of these. */
export type Schedule = (ms: number, fire: () => void) => Deadline;

/**
 * setTimeout itself: a timer per deadline. A deadline past the longest timer (MAX_TIMER_MS)
 * waits in several timers.
 */
export const timerPerDeadline: Schedule = (ms, fire) => {
  const at = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer =
      left > MAX_TIMER_MS
        ? setTimeout(() => arm(at - performance.now()), MAX_TIMER_MS)
        : setTimeout(fire, timerDelay(left));
  };
  arm(ms);
  return { cancel: () => clearTimeout(timer) };
};

class Entry implements Deadline {
  constructor(
    readonly at: number,
    readonly fire: () => void,
    private readonly owner: Set<Entry>,
  ) {}

  cancel(): void {
    this.owner.delete(this);
  }
}

/**
 * The timeouts of a worker's running jobs on one timer, armed for the earliest of them. A
 * timer per job (a Timeout object, a timer-list insert and unlink) was a visible share of
 * running a short job; here a job costs an entry in a set. Jobs of one worker mostly share one
 * timeout, so a new deadline is nearly always later than the armed one and re-arms nothing;
 * when the timer fires it walks the live entries (at most --concurrency of them).
 */
export class SharedDeadlines {
  private readonly entries = new Set<Entry>();
  private timer?: NodeJS.Timeout;
  private armedAt = Infinity;

  readonly schedule: Schedule = (ms, fire) => {
    const entry = new Entry(performance.now() + ms, fire, this.entries);
    this.entries.add(entry);
    if (entry.at < this.armedAt) this.arm(entry.at);
    return entry;
  };

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedAt = at;
    // Past the longest timer, the timer fires early and fire() arms it again for the rest.
    this.timer = setTimeout(() => this.fire(), timerDelay(at - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: Entry[] = [];
    for (const entry of this.entries) {
      if (entry.at <= now) due.push(entry);
      else if (entry.at < next) next = entry.at;
    }
    for (const entry of due) this.entries.delete(entry);
    if (next < Infinity) this.arm(next);
    for (const entry of due) entry.fire();
  }

  /** Drops every deadline (the worker has stopped). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.entries.clear();
  }
}
