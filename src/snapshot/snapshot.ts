/*
 * One read of the queue-wide state that `run metrics:serve` and the dashboard (`run serve`)
 * publish: queue sizes by state, failed jobs, pauses, breakers and rate-limit backlogs. Counting
 * them costs a pass over big tables, so it runs on a timer in its own thread (refresh-thread.ts),
 * never on a scrape or a page request.
 */
import type { App } from '../cli/app.js';
import { breakerReport } from '../flow/breakers/report.js';
import { limitsReport } from '../flow/rate-limits/report.js';
import { queueReport } from '../queue/sizes.js';

export interface QueueSnapshot {
  /** When the read started (epoch ms) and how long it took. */
  at: number;
  durationMs: number;
  /** Every queue that holds jobs or failed jobs, or is paused; the config's queues too. */
  queues: Array<{
    queue: string;
    pending: number;
    delayed: number;
    reserved: number;
    failed: number;
    paused: boolean;
  }>;
  breakers: Array<{ name: string; state: 'closed' | 'half-open' | 'open' }>;
  /** Per rate limit, how far ahead (s) its busiest key is booked; 0 when it has room. */
  limits: Array<{ name: string; backlogSeconds: number }>;
}

/** Reads the snapshot through `app`'s connection `connection` (QUEUE_CONNECTION by default). */
export async function readSnapshot(app: App, connection?: string): Promise<QueueSnapshot> {
  const at = Date.now();
  const driver = await app.queues().get(connection);
  const { knex } = await app.db();
  const { config, rateLimits } = await app.config();
  const report = await queueReport(driver, knex);
  // A queue absent from the report has no jobs, no failed jobs and no pause: its zeros are
  // known without asking (and a configured queue shows from the start, at 0).
  const listed = new Set(report.map((r) => r.queue));
  const empty = Object.keys(config.queues ?? {})
    .filter((q) => !listed.has(q))
    .map((queue) => ({ queue, pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false }));
  const breakers = await breakerReport((await app.registry()).all(), driver.flow().breakers);
  const limits =
    rateLimits.size === 0 ? [] : await limitsReport(driver.flow().rateLimits, rateLimits, 1);
  return {
    at,
    durationMs: Date.now() - at,
    queues: [...report, ...empty].map((r) => ({
      queue: r.queue,
      pending: r.pending,
      delayed: r.delayed,
      reserved: r.reserved,
      failed: r.failed,
      paused: r.paused,
    })),
    breakers: breakers.map((b) => ({ name: b.name, state: b.status.state })),
    limits: limits.map((l) => {
      const key = l.keys[0];
      const ms = Math.max(0, key?.freeInMs ?? 0, key?.queuedForMs ?? 0);
      const blocked = l.blockedUntil === null ? 0 : Date.parse(l.blockedUntil) - Date.now();
      return { name: l.name, backlogSeconds: Math.max(ms, blocked, 0) / 1000 };
    }),
  };
}
