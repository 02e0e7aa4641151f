import type { Knex } from 'knex';
import type { RetentionTable } from '../history/retention.js';
import { recordCancelled } from '../history/record-cancelled.js';
import type { QueueDriver } from '../queue/driver.js';
import { cancelJobs, type CancelOutcome, type CancelTarget } from './cancel-jobs.js';

/*
 * queue:cancel, shared by the command and the dashboard's POST /api/jobs/{id}/cancel: cancel,
 * then write the history rows of the waiting jobs it removed.
 */

export interface CancelDeps {
  driver: QueueDriver;
  /** The SQL storage, where history rows go. */
  knex: () => Promise<Knex>;
  /** The app's retention table (read only when a waiting job was removed). */
  retention: () => Promise<RetentionTable>;
}

/**
 * Cancels the jobs `target` names (see cancelJobs) and records the waiting ones it deleted in
 * the history, as their retention says: they never reach a worker, whose writer records the
 * running ones when they stop.
 */
export async function cancelAndRecord(
  deps: CancelDeps,
  target: CancelTarget,
  reason: string,
): Promise<CancelOutcome[]> {
  const outcomes = await cancelJobs(deps.driver, target, reason);
  const removed = outcomes.flatMap((o) => (o.outcome === 'cancelled' ? [o.job] : []));
  if (removed.length > 0) {
    const retention = await deps.retention();
    await recordCancelled(await deps.knex(), deps.driver.connection, removed, reason, retention);
  }
  return outcomes;
}

/** One outcome as `queue:cancel --json` prints it: `{ id, outcome, name?, queue?, state? }`. */
export function cancelOutcomeJson(o: CancelOutcome) {
  if (o.outcome !== 'cancelled') return { id: o.id, outcome: o.outcome };
  const { job } = o;
  return { id: o.id, outcome: o.outcome, name: job.name, queue: job.queue, state: job.state };
}
