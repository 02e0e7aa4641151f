import { LEASE_LOST_ERROR } from '../driver.js';
import { READY_AT_BEHIND, RECLAIM_SET, sqlString } from './reclaim.js';

/**
 * Every statement the PostgreSQL queue runs. Times are epoch milliseconds from the database
 * clock: clock_timestamp(), not now(), so a long transaction does not see a stale time.
 */
export const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * listPage's filters on state, tag and name, against the columns of `f`: PAGE_FILTER_VALUES,
 * whose placeholders are now (epoch ms), state, tag, name.
 */
const PAGE_FILTER_VALUES = `(select ?::bigint as at_ms, ?::text as want_state, ?::text as want_tag, ?::text as want_name) as f`;
const PAGE_FILTER = `(f.want_state is null
            or (f.want_state = 'pending' and available_at <= f.at_ms)
            or (f.want_state = 'delayed' and available_at > f.at_ms and reserved_at is null)
            or (f.want_state = 'reserved' and available_at > f.at_ms and reserved_at is not null))
       and (f.want_tag is null or tags::jsonb @> jsonb_build_array(f.want_tag))
       and (f.want_name is null or name = f.want_name)`;

/** One NOTIFY per pushing transaction wakes idle workers; the payload is the queue names. */
export const CHANNEL = 'jobsmith_jobs';

/**
 * Claims up to `limit` jobs of a queue. Placeholders: lease ms, token, queue, [ids to skip],
 * limit.
 *
 * SKIP LOCKED lets concurrent workers pass over each other's rows instead of waiting; the
 * inner select walks jobs_ready_idx (queue, priority desc, ready_at, id). RECLAIM_SET accounts
 * for a job whose last lease ran out (reclaim.ts). `id = any(array(...))` makes
 * the update find its rows by primary key: joined to a CTE instead, the planner hashes the
 * whole table once a claim takes more than a few rows (23 ms against 4 ms for 550 of 20,000).
 * The clock is read once per statement (`clock`, and the scalar subquery is evaluated once),
 * not once for every row the claim steps over and sets: 5% of a claim of 250.
 */
function claimJobs(skipIds: boolean): string {
  return `
    update jobs
       set ${RECLAIM_SET(sqlString(LEASE_LOST_ERROR))},
           reserved_at = clock.now, available_at = clock.now + ?, token = ?
      from (select ${NOW} as now) as clock
     where id = any(array(
       select id from jobs
        where queue = ? and available_at <= (select ${NOW})${skipIds ? ' and id <> all(?::bigint[])' : ''}
        order by priority desc, ready_at, id
        limit ?
        for update skip locked))
    returning id, name, queue, payload, priority, attempts, max_tries, ready_at, isolated, last_error, tags, progress, headers`;
}

/**
 * Deletes completed jobs (placeholders: ids, tokens) as `done`, then frees the unique keys of
 * those that have one.
 */
const COMPLETE_JOBS = `
    done as (
      delete from jobs using unnest(?::bigint[], ?::text[]) as l(id, token)
       where jobs.id = l.id and jobs.token = l.token
      returning jobs.id, jobs.unique_key),
    freed as (
      delete from job_uniques
       where job_id in (select id::text from done where unique_key is not null))`;

export const SQL = {
  now: `select ${NOW} as now`,

  // Pushes, as arrays of columns: ids follow the arrays' order. Unique keys are claimed first
  // (claimUniques, same transaction); a job whose key was not won is not in the arrays, and each
  // key won gets its job's id here (`keyed`), not in a statement of its own.
  pushMany: `
    with ins as (
      insert into jobs (queue, name, payload, priority, attempts, max_tries, available_at, ready_at, unique_key, unique_for_ms, created_at, tags, headers)
      select t.queue, t.name, t.payload, t.priority, 0, t.max_tries,
             t.at, t.at * 1000, t.unique_key, t.unique_for_ms, ${NOW}, t.tags, t.headers
        from (select *, coalesce(run_at, ${NOW} + delay_ms) as at from unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[])
             with ordinality as u(queue, name, payload, priority, max_tries, run_at, delay_ms, unique_key, unique_for_ms, tags, headers, ord)) as t
       order by t.ord
      returning id, unique_key),
    keyed as (
      update job_uniques set job_id = ins.id::text from ins
       where ins.unique_key is not null and job_uniques.key = ins.unique_key),
    n as (select pg_notify('${CHANNEL}', ?))
    select ins.id from ins cross join n order by ins.id`,
  // Claims keys (placeholders: keys, their ms to hold): a free key, or one whose hold ran out
  // (taken over in place, so no statement of its own frees it first). Concurrent pushes of one
  // key serialise on the primary key; the loser's row is not returned.
  claimUniques: `
    insert into job_uniques (key, job_id, expires_at)
    select t.key, '', ${NOW} + t.for_ms from unnest(?::text[], ?::bigint[]) as t(key, for_ms)
    on conflict (key) do update set job_id = excluded.job_id, expires_at = excluded.expires_at
     where job_uniques.expires_at <= ${NOW}
    returning key`,
  findUniques: `select key, job_id from job_uniques where key = any(?::text[])`,
  dropUniquesOf: `delete from job_uniques where job_id = any(?::text[])`,
  notify: `select pg_notify('${CHANNEL}', ?)`,

  claim: claimJobs(false),
  extend: `
    update jobs set available_at = ${NOW} + ?
      from unnest(?::bigint[], ?::text[]) as l(id, token)
     where jobs.id = l.id and jobs.token = l.token
    returning jobs.id`,
  // One statement, one commit.
  complete: `
    with ${COMPLETE_JOBS}
    select id from done`,
  // The previous jobs' completion and the next claim in one statement, one round trip: at
  // concurrency 1 a worker would otherwise wait for two per job. The claim skips the jobs being
  // completed (all CTEs share one snapshot, and a row must not be changed twice in one
  // statement); `done` rows come first, then the claimed ones.
  completeAndClaim: `
    with ${COMPLETE_JOBS},
    claimed as (${claimJobs(true)})
    select true as done, id, null::text as name, null::text as queue, null::text as payload,
           null::int as priority, null::int as attempts, null::int as max_tries,
           null::bigint as ready_at, null::boolean as isolated, null::text as last_error,
           null::text as tags, null::text as progress, null::text as headers
      from done
    union all
    select false, id, name, queue, payload, priority, attempts, max_tries, ready_at, isolated, last_error, tags, progress, headers
      from claimed`,
  markAlone: `update jobs set alone = true where id = ? and token = ?`,
  // ctx.progress (src/worker/progress.ts): fenced by the claim's token, like every settle.
  progress: `update jobs set progress = ? where id = ? and token = ?`,
  release: `
    update jobs
       set available_at = at.t, ready_at = ${READY_AT_BEHIND('at.t')},
           attempts = attempts - ?, last_error = ?,
           reserved_at = null, token = null
      from (select ${NOW} + ?::bigint as t) as at
     where id = ? and token = ?`,
  deleteJob: `delete from jobs where id = ? and token = ? returning unique_key, unique_for_ms`,
  insertFailed: `
    insert into failed_jobs (uuid, connection, queue, name, payload, exception, reason, attempts, priority, original_id, unique_key, unique_for_ms, tags, headers, failed_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NOW})`,

  // One count per queue, the clock read once: with the clock in every filter and a GROUP BY,
  // 50,000 jobs took 25 ms to count (7 ms so), and monitors poll this.
  sizes: `
    select q.queue, s.pending, s.delayed, s.reserved
      from unnest(?::text[]) as q(queue),
           (select ${NOW} as now) as clock,
           lateral (
             select count(*) filter (where available_at <= clock.now) as pending,
                    count(*) filter (where available_at > clock.now and reserved_at is null) as delayed,
                    count(*) filter (where available_at > clock.now and reserved_at is not null) as reserved
               from jobs where jobs.queue = q.queue) as s`,
  queueNames: `select distinct queue from jobs order by queue`,
  // When the next job of these queues comes due (a delay, a backoff, a lease that may run out):
  // an idle worker wakes for it. `latest`: when the last of those already due came due, so a
  // wait can tell one that came due since its claim (see waitForJobs). It reads every waiting
  // row of the queues (no index on available_at: see 0001), once per idle wait.
  nextDue: `
    select clock.now,
           min(jobs.available_at) filter (where jobs.available_at > clock.now) as next,
           max(jobs.available_at) filter (where jobs.available_at <= clock.now) as latest
      from (select ${NOW} as now) as clock
      left join jobs on jobs.queue = any(?::text[])
     group by clock.now`,
  list: `
    select *, ${NOW} as now from jobs
     where queue = ?
       and (?::text is null
            or (?::text = 'pending' and available_at <= ${NOW})
            or (?::text = 'delayed' and available_at > ${NOW} and reserved_at is null)
            or (?::text = 'reserved' and available_at > ${NOW} and reserved_at is not null))
       and (?::text is null or tags::jsonb @> jsonb_build_array(?::text))
     order by priority desc, ready_at, id
     limit ? offset ?`,
  // listPage (job-page-walk.ts), each a seek of jobs_ready_idx. The queue's highest priority
  // below a bound; placeholders queue, bound.
  pageTop: `select max(priority) as priority from jobs where queue = ? and priority < ?`,
  // Where the first entries of a stretch of one priority end (an index-only scan); placeholders
  // queue, priority, ready_at, id (the exclusive start), ready_at's bound, count.
  pageEdge: `
    with stretch as (
      select ready_at, id from jobs
       where queue = ? and priority = ? and (ready_at, id) > (?::bigint, ?::bigint)
         and ready_at < ?::bigint
       order by ready_at, id limit ?)
    select (select count(*) from stretch) as n, ready_at as "readyAt", id from stretch
     order by ready_at desc, id desc limit 1`,
  // The stretch's rows through its edge that pass the filters; placeholders PAGE_FILTER_VALUES,
  // queue, priority, ready_at, id (the exclusive start), ready_at, id (the edge), limit.
  pageRows: `
    select jobs.* from jobs, ${PAGE_FILTER_VALUES}
     where queue = ? and priority = ? and (ready_at, id) > (?::bigint, ?::bigint)
       and (ready_at, id) <= (?::bigint, ?::bigint) and ${PAGE_FILTER}
     order by ready_at, id limit ?`,
  clearQueue: `
    delete from jobs where queue = ? and (reserved_at is null or available_at <= ${NOW})
    returning id`,
} as const;

/** Rewrites knex-style `?` placeholders to PostgreSQL's `$1, $2...` for the raw pg pool. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
