import type { ClaimedJob } from '../queue/driver.js';
import type { JobLogger } from '../jobs/types.js';

/**
 * `ctx.progress(...)`: a handler's progress reports, written through the driver with the claim's
 * token (fenced: a worker that lost the job writes nothing), throttled per job.
 *
 * Throttle: the first report is written at once; later ones at most every PROGRESS_INTERVAL_MS.
 * A report that comes sooner is held, replacing any held before it, and written when the
 * interval ends. When the handler ends, the held value is flushed before the job settles
 * (executor.ts), so the last value reported is always the one stored: it is never dropped.
 * Writes of one job go one after the other, in order.
 */

/** At most one progress write per job per this many milliseconds (4 a second). */
export const PROGRESS_INTERVAL_MS = 250;
/** A progress value's JSON text, at most (a progress bar's state, not a result). */
export const MAX_PROGRESS_LENGTH = 8192;

/** Writes a held job's progress (JSON text); false when the claim no longer holds it. */
export type ProgressWriter = (job: ClaimedJob, value: string) => Promise<boolean>;

/** The JSON text of a progress value, or a TypeError saying what is accepted. */
export function progressText(value: unknown): string | TypeError {
  const plain =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);
  if (!(typeof value === 'number' && Number.isFinite(value)) && !plain) {
    return new TypeError(
      `ctx.progress takes a finite number (such as 42) or a plain object (such as { done: 3, of: 10 }), got ${describe(value)}.`,
    );
  }
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return new TypeError(
      `ctx.progress: the value cannot be stored as JSON (${(error as Error).message}).`,
    );
  }
  if (text.length > MAX_PROGRESS_LENGTH) {
    return new TypeError(
      `ctx.progress: the value is ${text.length} characters of JSON, more than ${MAX_PROGRESS_LENGTH}; report a summary (counts, a percentage) and return the details as the result.`,
    );
  }
  return text;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object that is not a plain one' : `a ${typeof value}`;
}

/** One job's progress reports: throttling, ordering and the final flush. */
export class ProgressMeter {
  /** JSON text of the latest value reported (written or held), for whoever records the job. */
  latest?: string;
  private held?: string;
  private timer?: NodeJS.Timeout;
  private lastWriteAt = -Infinity;
  private writing: Promise<void> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly job: ClaimedJob,
    private readonly write: ProgressWriter | undefined,
    private readonly log: JobLogger,
  ) {}

  report(value: unknown): Promise<void> {
    const text = progressText(value);
    if (text instanceof TypeError) return Promise.reject(text);
    this.latest = text;
    const wait = this.lastWriteAt + PROGRESS_INTERVAL_MS - performance.now();
    if (wait <= 0 && this.timer === undefined) return this.send(text);
    this.held = text;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.sendHeld();
    }, wait);
    // A held write must not keep a finished process alive; flush() writes it anyway.
    this.timer.unref?.();
    return Promise.resolve();
  }

  /** Writes the held value now, if any, and waits for every write so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.held === undefined ? this.writing : this.sendHeld();
  }

  private sendHeld(): Promise<void> {
    const text = this.held;
    this.held = undefined;
    return text === undefined ? this.writing : this.send(text);
  }

  private send(text: string): Promise<void> {
    this.lastWriteAt = performance.now();
    const write = this.write;
    if (!write) return this.writing; // no storage behind the run (sync): kept in `latest` only
    this.writing = this.writing.then(() =>
      write(this.job, text).then(
        () => {},
        (error: unknown) => {
          // Progress is advisory: a storage hiccup must not fail the job. Logged once per job.
          if (this.warned) return;
          this.warned = true;
          this.log.warn('progress not saved', {
            job: this.job.id,
            error: (error as Error)?.message ?? String(error),
          });
        },
      ),
    );
    return this.writing;
  }
}
