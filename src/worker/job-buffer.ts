import type { ClaimedJob } from '../queue/driver.js';

/**
 * Jobs claimed ahead and not started yet, first in, first out. Taken from the front by an
 * index rather than `splice`, which moved every job behind: a buffer of 500 shifted 500
 * entries for each job started at concurrency 1.
 */
export class JobBuffer {
  private jobs: ClaimedJob[] = [];
  private head = 0;

  get size(): number {
    return this.jobs.length - this.head;
  }

  /** The next job to start, if any. */
  peek(): ClaimedJob | undefined {
    return this.jobs[this.head];
  }

  push(jobs: ClaimedJob[]): void {
    // Let go of the jobs already taken: a buffer topped up before it empties would otherwise
    // keep every job it ever held.
    if (this.head > 0) {
      this.jobs = this.jobs.slice(this.head);
      this.head = 0;
    }
    for (const job of jobs) this.jobs.push(job);
  }

  /** Up to `n` jobs from the front. */
  take(n: number): ClaimedJob[] {
    const end = Math.min(this.head + n, this.jobs.length);
    const taken = this.jobs.slice(this.head, end);
    this.head = end;
    if (this.head === this.jobs.length) this.clear();
    return taken;
  }

  /** Every job, removed. */
  drain(): ClaimedJob[] {
    const all = this.toArray();
    this.clear();
    return all;
  }

  /** The jobs held, without removing them. */
  toArray(): ClaimedJob[] {
    return this.jobs.slice(this.head);
  }

  /** Drops one job (its lease was lost). */
  remove(id: string): void {
    this.jobs = this.drain().filter((j) => j.id !== id);
  }

  private clear(): void {
    this.jobs = [];
    this.head = 0;
  }
}
