import type { QueueDriver } from '../driver.js';
import { statusOf, type LiveStatus } from './present.js';
import { sortOut } from './sort-out.js';

/*
 * queue:promote and queue:delete, shared by the commands and the dashboard's
 * POST /api/jobs/{id}/promote and /delete. The results are the commands' `--json` shapes.
 */

/** What `promoteJobs` did: ids promoted, live jobs that were not delayed, ids of no live job. */
export interface PromoteResult {
  promoted: string[];
  skipped: Array<{ id: string; status: LiveStatus; state: string }>;
  missing: string[];
}

/** Makes the delayed jobs among `ids` ready now (duplicates count once). */
export async function promoteJobs(driver: QueueDriver, ids: string[]): Promise<PromoteResult> {
  const wanted = [...new Set(ids)];
  const promoted = await driver.promote(wanted);
  const { skipped, missing } = await sortOut(driver, wanted, promoted);
  return {
    promoted,
    skipped: skipped.map((r) => ({ id: r.id, status: statusOf(r.state), state: r.state })),
    missing,
  };
}

/** What `deleteJobs` did: ids deleted, ids a worker holds (refused), ids of no live job. */
export interface DeleteResult {
  deleted: string[];
  running: string[];
  missing: string[];
}

/** Deletes the waiting jobs among `ids` and frees their unique keys; running ones are refused. */
export async function deleteJobs(driver: QueueDriver, ids: string[]): Promise<DeleteResult> {
  const wanted = [...new Set(ids)];
  const deleted = await driver.remove(wanted);
  // What is left and live is held by a worker (remove takes every other live job).
  const { skipped, missing } = await sortOut(driver, wanted, deleted);
  return { deleted, running: skipped.map((r) => r.id), missing };
}
