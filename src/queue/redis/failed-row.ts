import type { Knex } from 'knex';
import type { failedJobRow } from '../../failed/record.js';

/**
 * Inserts a failed_jobs row, or finds it already there: the worker retries a fail() whose Redis
 * half was cut by a dropped connection, and the row of the first try must not fail the retry.
 * A row of the same uuid for another job is still an error.
 */
export async function insertFailedOnce(
  knex: Knex,
  row: ReturnType<typeof failedJobRow>,
): Promise<void> {
  try {
    await knex('failed_jobs').insert(row);
  } catch (error) {
    const existing = await knex('failed_jobs')
      .where({ uuid: row.uuid })
      .first('original_id', 'connection')
      .catch(() => undefined);
    const same =
      existing &&
      String(existing.original_id) === String(row.original_id) &&
      existing.connection === row.connection;
    if (!same) throw error;
  }
}
