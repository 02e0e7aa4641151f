import { hostname, userInfo } from 'node:os';
import type { Knex } from 'knex';

/** A paused queue as `run queue:paused` shows it. */
export interface PausedQueue {
  queue: string;
  /** Epoch ms of the pause. */
  pausedAt: number;
  /**
   * Who paused it: `user@host` of queue:pause, or the dashboard with its basic-auth user and
   * client address (src/http/actor.ts); null when not stored (paused before migration 0017).
   */
  pausedBy: string | null;
}

/** Paused queues (queue_settings, shared by every connection), by name. */
export async function pausedQueueList(knex: Knex): Promise<PausedQueue[]> {
  const rows = (await knex('queue_settings')
    .where({ paused: true })
    .orderBy('queue')
    .select('queue', 'updated_at', 'paused_by')) as Array<{
    queue: string;
    updated_at: number | string;
    paused_by: string | null;
  }>;
  return rows.map((r) => ({
    queue: r.queue,
    pausedAt: Number(r.updated_at),
    pausedBy: r.paused_by ?? null,
  }));
}

/** Who pauses a queue from this process, as stored: `user@host`. */
export function pausedByHere(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): the environment's word for it.
  }
  return `${user}@${hostname()}`.slice(0, 190);
}
