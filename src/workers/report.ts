import type { Knex } from 'knex';
import { PRUNE_AFTER_MS, STALE_AFTER_MS } from './registration.js';
import { databaseNow, listWorkerRows, type WorkerRow } from './store.js';

/** A registered worker as `run workers:list` shows it. */
export interface WorkerReport extends WorkerRow {
  uptimeMs: number;
  /** How long ago its row was last rewritten, ms. */
  heartbeatAgeMs: number;
  /** No heartbeat for STALE_AFTER_MS: the worker died or cannot reach the storage. */
  stale: boolean;
}

/** Every row of the workers registry, aged by the database clock. */
export async function workersReport(knex: Knex): Promise<WorkerReport[]> {
  const [rows, now] = await Promise.all([listWorkerRows(knex), databaseNow(knex)]);
  return rows.map((r) => {
    const heartbeatAgeMs = Math.max(0, now - r.heartbeatAt);
    return {
      ...r,
      uptimeMs: Math.max(0, now - r.startedAt),
      heartbeatAgeMs,
      stale: heartbeatAgeMs > STALE_AFTER_MS,
    };
  });
}

export { PRUNE_AFTER_MS, STALE_AFTER_MS };
