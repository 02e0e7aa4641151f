import type BetterSqlite3 from 'better-sqlite3';
import { LEASE_LOST_ERROR } from '../driver.js';
import { READY_AT_BEHIND, RECLAIM_SET, sqlString } from './reclaim.js';

/** listPage's filters on state, tag and name (parameters @state, @now, @tag, @name). */
const PAGE_FILTER = `(@state is null
              or (@state = 'pending' and available_at <= @now)
              or (@state = 'delayed' and available_at > @now and reserved_at is null)
              or (@state = 'reserved' and available_at > @now and reserved_at is not null))
         and (@tag is null or exists (select 1 from json_each(jobs.tags) where value = @tag))
         and (@name is null or name = @name)`;

/**
 * Every statement the SQLite queue runs, prepared once. Times are epoch milliseconds from
 * SQLite's own clock (`unixepoch('subsec')`, SQLite ≥ 3.42, bundled with better-sqlite3).
 */
export function prepareStatements(db: BetterSqlite3.Database): Statements {
  return {
    now: db.prepare(`select cast(unixepoch('subsec') * 1000 as integer)`),
    dataVersion: db.prepare('pragma data_version'),

    insertJob: db.prepare(`
      insert into jobs (queue, name, payload, priority, attempts, max_tries, available_at, ready_at, unique_key, unique_for_ms, created_at, tags, headers)
      values (@queue, @name, @payload, @priority, 0, @max_tries, @available_at, @available_at * 1000, @unique_key, @unique_for_ms, @created_at, @tags, @headers)`),
    dropExpiredUnique: db.prepare('delete from job_uniques where key = ? and expires_at <= ?'),
    findUnique: db.prepare('select job_id from job_uniques where key = ?'),
    insertUnique: db.prepare('insert into job_uniques (key, job_id, expires_at) values (?, ?, ?)'),
    dropUniqueOf: db.prepare('delete from job_uniques where job_id = ?'),
    dropUniquesOfQueue: db.prepare(
      `delete from job_uniques where job_id in
         (select cast(id as text) from jobs where queue = @queue and (reserved_at is null or available_at <= @now))`,
    ),

    // The inner select walks jobs_ready_idx (queue, priority desc, ready_at, id) and stops at
    // `limit`. RECLAIM_SET accounts for a job whose last lease ran out (reclaim.ts).
    claim: db.prepare(`
      update jobs
         set ${RECLAIM_SET(sqlString(LEASE_LOST_ERROR))},
             reserved_at = @now, available_at = @lease_until, token = @token
       where id in (
         select id from jobs
          where queue = @queue and available_at <= @now
          order by priority desc, ready_at, id
          limit @limit)
      returning id, name, queue, payload, priority, attempts, max_tries, ready_at, isolated, last_error, tags, progress, headers`),
    // Jobs of a queue held with a live lease (globalConcurrency): a lease that ran out does not
    // count. It walks the queue's entries of jobs_ready_idx, so it costs with the queue's
    // length; only the claims of a capped queue run it (docs/concurrency.md).
    countHeld: db.prepare(
      'select count(*) from jobs where queue = @queue and reserved_at is not null and available_at > @now',
    ),
    markAlone: db.prepare('update jobs set alone = 1 where id = ? and token = ?'),
    extend: db.prepare('update jobs set available_at = ? where id = ? and token = ?'),
    // The unique key says whether job_uniques holds a row to free: most jobs have none, and a
    // second statement per completed job to find that out cost a sixth of a completion.
    deleteJob: db.prepare(
      'delete from jobs where id = ? and token = ? returning unique_key, unique_for_ms',
    ),
    release: db.prepare(`
      update jobs
         set available_at = @at, ready_at = ${READY_AT_BEHIND('@at')},
             attempts = attempts - @refund, last_error = @error,
             reserved_at = null, token = null
       where id = @id and token = @token`),
    insertFailed: db.prepare(`
      insert into failed_jobs (uuid, connection, queue, name, payload, exception, reason, attempts, priority, original_id, unique_key, unique_for_ms, tags, headers, failed_at)
      values (@uuid, @connection, @queue, @name, @payload, @exception, @reason, @attempts, @priority, @original_id, @unique_key, @unique_for_ms, @tags, @headers, @failed_at)`),

    sizes: db.prepare(`
      select sum(case when available_at <= @now then 1 else 0 end) as pending,
             sum(case when available_at > @now and reserved_at is null then 1 else 0 end) as delayed,
             sum(case when available_at > @now and reserved_at is not null then 1 else 0 end) as reserved
        from jobs where queue = @queue`),
    queueNames: db.prepare('select distinct queue from jobs order by queue'),
    // When the next job of these queues comes due after @after (a delay, a backoff, a lease
    // that may run out; @after is the latest claim's clock, so a job due since then shows as
    // due now): an idle worker wakes for it instead of sleeping through it. It reads every
    // waiting row of the queues (no index on available_at: see 0001), once per idle wait.
    nextDue: db.prepare(`
      select min(available_at) from jobs
       where queue in (select value from json_each(@queues)) and available_at > @after`),
    list: db.prepare(`
      select * from jobs
       where queue = @queue
         and (@state is null
              or (@state = 'pending' and available_at <= @now)
              or (@state = 'delayed' and available_at > @now and reserved_at is null)
              or (@state = 'reserved' and available_at > @now and reserved_at is not null))
         and (@tag is null or exists (select 1 from json_each(jobs.tags) where value = @tag))
       order by priority desc, ready_at, id
       limit @limit offset @offset`),
    // listPage (job-page-walk.ts), each a seek of jobs_ready_idx: the queue's highest priority
    // below @below; where the first @count entries of a stretch of one priority end (index
    // only); the rows of the stretch through that end that pass the filters.
    pageTop: db.prepare(
      'select max(priority) as priority from jobs where queue = @queue and priority < @below',
    ),
    pageEdge: db.prepare(`
      with stretch as (
        select ready_at, id from jobs
         where queue = @queue and priority = @priority and (ready_at, id) > (@ready_at, @id)
           and ready_at < @below
         order by ready_at, id limit @count)
      select (select count(*) from stretch) as n, ready_at as readyAt, id from stretch
       order by ready_at desc, id desc limit 1`),
    pageRows: db.prepare(`
      select * from jobs
       where queue = @queue and priority = @priority and (ready_at, id) > (@ready_at, @id)
         and (ready_at, id) <= (@last_ready_at, @last_id) and ${PAGE_FILTER}
       order by ready_at, id limit @want`),
    // Jobs a worker holds (a live lease) are left alone; their worker settles them.
    clearQueue: db.prepare(
      'delete from jobs where queue = @queue and (reserved_at is null or available_at <= @now)',
    ),
  };
}

type StatementName =
  | 'now'
  | 'dataVersion'
  | 'insertJob'
  | 'dropExpiredUnique'
  | 'findUnique'
  | 'insertUnique'
  | 'dropUniqueOf'
  | 'dropUniquesOfQueue'
  | 'claim'
  | 'countHeld'
  | 'markAlone'
  | 'extend'
  | 'deleteJob'
  | 'release'
  | 'insertFailed'
  | 'sizes'
  | 'queueNames'
  | 'nextDue'
  | 'list'
  | 'pageTop'
  | 'pageEdge'
  | 'pageRows'
  | 'clearQueue';

export type Statements = Record<StatementName, BetterSqlite3.Statement>;
