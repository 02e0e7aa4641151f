import type pg from 'pg';
import type { FailedJobRecord, Lease } from '../driver.js';
import { storedTags } from '../../jobs/tags.js';
import { storedHeaders } from '../headers.js';
import { storableRecord } from '../storable.js';
import { prepared } from './postgres-settle.js';
import { uniqueOf } from './rows.js';

/**
 * The PostgreSQL queue's fail(), on a client checked out of its settle pool: the job is deleted
 * under its token, its unique keys dropped and its failed_jobs row written in one transaction,
 * so a failed job is either still a job or a failed one, never both nor neither. A stale token
 * deletes nothing and writes nothing: false.
 */
export async function failJob(
  client: pg.PoolClient,
  lease: Lease,
  given: FailedJobRecord,
): Promise<boolean> {
  try {
    await client.query('begin');
    const deleted = await client.query(prepared('deleteJob', [lease.id, lease.token]));
    const [row] = deleted.rows;
    if (deleted.rowCount !== 1 || !row) {
      await client.query('rollback');
      return false;
    }
    await client.query(prepared('dropUniquesOf', [[lease.id]]));
    const unique = uniqueOf(row.unique_key, row.unique_for_ms);
    const record = storableRecord({ ...given, unique });
    await client.query(
      prepared('insertFailed', [
        record.uuid,
        record.connection,
        record.queue,
        record.name,
        record.payload,
        record.exception,
        record.reason,
        record.attempts,
        record.priority,
        record.originalId,
        record.unique?.key ?? null,
        record.unique?.forMs ?? null,
        storedTags(record.tags),
        storedHeaders(record.headers),
      ]),
    );
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}
