import { ConfigError } from '../errors.js';
import { isCalendarDate } from '../util/iso-date.js';

/**
 * The scheduler's clock: which minute it is decides which slots are due, so every host reads the
 * database clock (one query) rather than its own, and keeps the offset to sleep accurately.
 *
 * JOBSMITH_NOW (an ISO 8601 date/time) is a testing aid: the clock starts at that instant and
 * runs on from there, so a test can put `schedule:run` in any minute without waiting for it.
 */
export class SchedulerClock {
  /** Added to Date.now() to get the scheduler's time. */
  private offset = 0;

  private constructor(
    private readonly fixedStart: number | undefined,
    private readonly source: (() => Promise<number>) | undefined,
  ) {
    if (fixedStart !== undefined) this.offset = Math.round(fixedStart - Date.now());
  }

  /** A clock that follows `source` (the database clock), or JOBSMITH_NOW when it is set. */
  static async create(
    rawEnv: Record<string, string | undefined>,
    source?: () => Promise<number>,
  ): Promise<SchedulerClock> {
    const clock = new SchedulerClock(parseNow(rawEnv.JOBSMITH_NOW), source);
    await clock.sync();
    return clock;
  }

  /** True when JOBSMITH_NOW set the clock. */
  get pinned(): boolean {
    return this.fixedStart !== undefined;
  }

  /**
   * Re-reads the source clock; the midpoint of the round trip is taken as its "now". The offset
   * is rounded to a whole millisecond: the midpoint of two whole numbers can end in .5, and a
   * time of `1795416412895.5` is refused by a PostgreSQL bigint column.
   */
  async sync(): Promise<void> {
    if (this.fixedStart !== undefined || !this.source) return;
    const before = Date.now();
    const remote = await this.source();
    const after = Date.now();
    this.offset = Math.round(remote - (before + after) / 2);
  }

  /** Epoch milliseconds, a whole number. */
  now(): number {
    return Date.now() + this.offset;
  }
}

/** Parses JOBSMITH_NOW; undefined when unset. */
export function parseNow(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const at = new Date(value).getTime();
  if (Number.isNaN(at) || !isCalendarDate(value)) {
    throw new ConfigError(
      `JOBSMITH_NOW=${JSON.stringify(value)} is not valid; expected an ISO 8601 date/time such as 2026-01-31T09:00:00Z.`,
      {
        hint: 'JOBSMITH_NOW is a testing aid that sets the scheduler clock; unset it in production.',
      },
    );
  }
  return at;
}
