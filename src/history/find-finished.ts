import type { Knex } from 'knex';

/*
 * STUB, owned by helper H2 (issue 15), who replaces this file with the lookup of a finished job
 * in job_history (and failed_jobs). `queue:show` calls it when the driver has no live job of
 * the id. Until then no finished job is found.
 */

/** A finished job as queue:show prints it: `status` and any other fields, shown as given. */
export interface FinishedJob {
  id: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  [field: string]: unknown;
}

export async function findFinished(_id: string, _knex: Knex): Promise<FinishedJob | null> {
  return null;
}
