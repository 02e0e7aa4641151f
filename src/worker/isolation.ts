import type { ClaimedJob, QueueDriver } from '../queue/driver.js';

/**
 * Crash isolation, the worker's half (docs/reliability.md). A job whose last lease ran out
 * comes back from the claim with `isolate` set: its worker died, hung or lost its storage while
 * it ran, maybe beside the job that caused it. The driver gave the lost attempt back unless the
 * job ran alone. Here such jobs wait in a line: the worker claims nothing more, lets the jobs
 * it runs finish, then runs the line's jobs one at a time with nothing beside them, each marked
 * alone in the storage first. A job that kills its worker while alone is the culprit and pays
 * the attempt on its next claim; the others complete and are never charged for it.
 *
 * A job whose tries are already spent is not held: it only fails (max attempts), its handler
 * does not run.
 */
export class IsolationLine {
  private readonly line: ClaimedJob[] = [];
  /** The id of the job running alone, if one is. */
  private aloneId?: string;

  constructor(
    private readonly driver: QueueDriver,
    /** The tries that apply to a job (--tries, its queue's, its own: executor.ts triesOf). */
    private readonly triesOf: (job: ClaimedJob) => number,
  ) {}

  /** Whether the worker must not claim or start other jobs: one runs alone or some wait to. */
  get blocking(): boolean {
    return this.aloneId !== undefined || this.line.length > 0;
  }

  /** The jobs waiting, for lease renewals. */
  held(): ClaimedJob[] {
    return this.line;
  }

  /**
   * Takes the jobs to isolate out of a claim's; returns those that start now, and calls
   * `isolated` for each one held.
   */
  sort(jobs: ClaimedJob[], isolated: (job: ClaimedJob) => void): ClaimedJob[] {
    if (!jobs.some((j) => j.isolate)) return jobs;
    const now: ClaimedJob[] = [];
    for (const job of jobs) {
      if (job.isolate && job.attempts <= this.triesOf(job)) {
        this.line.push(job);
        isolated(job);
      } else now.push(job);
    }
    return now;
  }

  /**
   * The next job to run alone, once nothing else runs: marked alone in the storage. Undefined
   * if the line is empty or the mark found the lease lost (the job is dropped; `lost` is called).
   * Throws what the storage threw; the job stays first in line.
   */
  async next(lost: (job: ClaimedJob) => void): Promise<ClaimedJob | undefined> {
    const job = this.line[0];
    if (!job) return undefined;
    const ours = await this.driver.markAlone({ id: job.id, token: job.token });
    if (this.line[0] === job) this.line.shift();
    if (!ours) {
      lost(job);
      return undefined;
    }
    this.aloneId = job.id;
    return job;
  }

  /** A job ended: if it ran alone, the next in line may start. */
  ended(id: string): void {
    if (this.aloneId === id) this.aloneId = undefined;
  }

  /** Drops a job whose lease was lost while it waited. */
  lose(id: string): void {
    const at = this.line.findIndex((j) => j.id === id);
    if (at >= 0) this.line.splice(at, 1);
  }

  /** Every waiting job, removed (the worker stops: they are put back). */
  drain(): ClaimedJob[] {
    return this.line.splice(0);
  }
}
