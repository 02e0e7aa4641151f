/**
 * What a claim writes, in both SQL dialects, about the job it takes: the accounting of crash
 * isolation (docs/reliability.md). A job claimed while `reserved_at` is still set was held by a
 * claim whose lease ran out: its worker died, hung or lost its storage, perhaps because of
 * another job running beside it. Such a claim
 *
 * - charges the lost attempt only if that claim ran the job alone (`alone`, set by markAlone):
 *   then nothing else can have killed the worker. Otherwise the lost claim is given back, so
 *   the jobs that merely ran beside a culprit do not spend their tries;
 * - sets `isolated`, so the worker runs the job alone until it is known to be innocent;
 * - records why the last claim ended as the job's last error, kept if it finally fails.
 *
 * SET expressions read the row as it was before the update; RETURNING reads it after.
 */
export function RECLAIM_SET(lostError: string): string {
  return `attempts = attempts + case when reserved_at is not null and not alone then 0 else 1 end,
             isolated = (reserved_at is not null),
             last_error = case when reserved_at is not null then ${lostError} else last_error end,
             alone = false`;
}

/** A text constant as an SQL literal (standard quoting, valid in SQLite and PostgreSQL). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The `ready_at` of a job put back to run at `at` (an SQL expression, epoch ms). `ready_at` is
 * in microseconds: the millisecond the job joined the ready line times 1000, plus its place
 * among the jobs that joined in the same millisecond. A put-back job goes behind every job of its
 * queue and priority that joined by then, even in the same millisecond: ties would go by id,
 * and a put-back job keeps its old, low one, so a job retried with no backoff came first again
 * (a busy SQLite worker puts a job back several times a millisecond). The latest job of that
 * millisecond is one probe of jobs_ready_idx, walked backwards.
 */
export const READY_AT_BEHIND = (at: string) => `coalesce((
             select j.ready_at + 1 from jobs j
              where j.queue = jobs.queue and j.priority = jobs.priority
                and j.ready_at between ${at} * 1000 and ${at} * 1000 + 998
              order by j.ready_at desc limit 1), ${at} * 1000)`;
