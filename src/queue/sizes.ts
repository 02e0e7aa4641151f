import type { Knex } from 'knex';
import { pausedQueues } from './control.js';
import type { QueueDriver, QueueSizes } from './driver.js';

/** What `queue:size` shows for one queue. */
export interface QueueReport extends QueueSizes {
  /** Rows in failed_jobs for this queue on the same connection. */
  failed: number;
  /** `run queue:pause` holds it: workers of every connection claim nothing from it. */
  paused: boolean;
}

/** What `queue:monitor` shows for one queue. */
export interface QueueHealth {
  queue: string;
  /** Jobs waiting: pending plus delayed. */
  size: number;
  max: number;
  status: 'OK' | 'ALERT';
}

/** Failed jobs per queue of one connection. */
async function failedCounts(knex: Knex, connection: string): Promise<Map<string, number>> {
  const rows = (await knex('failed_jobs')
    .where({ connection })
    .select('queue')
    .count({ n: '*' })
    .groupBy('queue')) as Array<{ queue: string; n: number | string }>;
  return new Map(rows.map((r) => [r.queue, Number(r.n)]));
}

/**
 * Sizes of `queues` on `driver`, with their failed jobs and whether they are paused. Without
 * queues: every queue that holds jobs or failed jobs, or is paused, by name. Failed jobs and
 * pauses live in SQL storage (`knex`) whatever the driver.
 */
export async function queueReport(
  driver: QueueDriver,
  knex: Knex,
  queues?: string[],
): Promise<QueueReport[]> {
  const [failed, paused] = await Promise.all([
    failedCounts(knex, driver.connection),
    pausedQueues(knex),
  ]);
  const names =
    queues && queues.length > 0
      ? queues
      : [...new Set([...(await driver.queues()), ...failed.keys(), ...paused])].sort();
  if (names.length === 0) return [];
  const sizes = await driver.sizes(names);
  return sizes.map((s) => ({
    ...s,
    failed: failed.get(s.queue) ?? 0,
    paused: paused.has(s.queue),
  }));
}

/** Waiting jobs (pending + delayed) per queue against a threshold: ALERT when over `max`. */
export async function queueHealth(
  driver: QueueDriver,
  queues: string[],
  max: number,
): Promise<QueueHealth[]> {
  const sizes = await driver.sizes(queues);
  return sizes.map((s) => {
    const size = s.pending + s.delayed;
    return { queue: s.queue, size, max, status: size > max ? 'ALERT' : 'OK' };
  });
}
