import { Cron } from 'croner';

/** What a cron expression may look like, for error messages. */
export const CRON_HELP =
  'use 5 fields (minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"), 6 fields with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly';

/**
 * One entry's cron expression in its time zone, read by croner. Slots are absolute instants
 * (epoch ms), so every host computes the same slot whatever its own time zone.
 */
export class CronSchedule {
  private readonly cron: Cron;

  /** Throws croner's error for an expression or time zone it cannot read. */
  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    // No callback: croner only computes dates, it never starts a timer.
    this.cron = new Cron(expression, { paused: true, timezone, mode: '5-or-6-parts' });
  }

  /** The first slot strictly after `after`, or undefined when there is none (30 February). */
  next(after: number): number | undefined {
    return this.cron.nextRun(new Date(after))?.getTime();
  }

  /** The next `count` slots after `after`. */
  nextRuns(count: number, after: number): number[] {
    return this.cron.nextRuns(count, new Date(after)).map((d) => d.getTime());
  }

  /** The latest slot in (from, to], or undefined. */
  latestIn(from: number, to: number): number | undefined {
    const [previous] = this.cron.previousRuns(1, new Date(to + 1));
    const at = previous?.getTime();
    return at !== undefined && at > from ? at : undefined;
  }
}

/** croner's message without its class prefix ("CronPattern: Invalid value for minute: 61"). */
export function cronProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron(Pattern|Date)?:\s*/, '').replace(/\.?\s*Original error:.*$/s, '');
}
