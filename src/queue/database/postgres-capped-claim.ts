import type pg from 'pg';
import { LEASE_LOST_ERROR } from '../driver.js';
import { withClient } from './pg-checkout.js';
import { NOW, numbered } from './postgres-sql.js';
import { RECLAIM_SET, sqlString } from './reclaim.js';

/**
 * `globalConcurrency` on PostgreSQL: the claim of a capped queue counts the queue's jobs held
 * with a live lease and claims no more than the cap leaves. Two such claims running at once
 * would each count before the other committed (SKIP LOCKED lets them pass each other), and
 * overshoot; so the claims of a capped queue take a transaction-level advisory lock on the
 * queue first and run one after the other. The count is a statement of its own after the lock,
 * so under READ COMMITTED it sees every claim committed before the lock was granted. Claims of
 * queues without a cap take no lock and pay nothing.
 */

/**
 * The advisory lock's first key: it keeps these locks apart from any other user of the
 * two-key advisory lock space (the second key is the queue name's hash). "js" and 1.
 */
const LOCK_CLASS = 0x6a730001;

/** Placeholders: queue. */
const LOCK = `select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(?))`;

/**
 * Claims up to least(limit, cap - held) jobs of a queue, as SQL.claim does otherwise.
 * Placeholders: lease ms, token, queue, limit, cap, queue.
 */
const CLAIM = `
    update jobs
       set ${RECLAIM_SET(sqlString(LEASE_LOST_ERROR))},
           reserved_at = clock.now, available_at = clock.now + ?, token = ?
      from (select ${NOW} as now) as clock
     where id = any(array(
       select id from jobs
        where queue = ? and available_at <= (select ${NOW})
        order by priority desc, ready_at, id
        limit greatest(0, least(?::bigint, ?::bigint - (
          select count(*) from jobs held
           where held.queue = ? and held.reserved_at is not null
             and held.available_at > (select ${NOW}))))
        for update skip locked))
    returning id, name, queue, payload, priority, attempts, max_tries, ready_at, isolated, last_error, tags, progress, headers`;

const STATEMENTS = {
  lock: { name: 'jobsmith_capLock', text: numbered(LOCK) },
  claim: { name: 'jobsmith_capClaim', text: numbered(CLAIM) },
};

export interface CappedClaim {
  queue: string;
  /** Jobs wanted (the claim's limit, within the worker's own caps). */
  limit: number;
  /** The queue's globalConcurrency. */
  cap: number;
  leaseMs: number;
  token: string;
}

/** Claims jobs of a capped queue in a transaction of its own on a client of `pool`. */
export async function claimCapped(
  pool: pg.Pool,
  c: CappedClaim,
): Promise<Array<Record<string, unknown>>> {
  return withClient(pool, async (client) => {
    try {
      await client.query('begin');
      await client.query({ ...STATEMENTS.lock, values: [c.queue] });
      const { rows } = await client.query<Record<string, unknown>>({
        ...STATEMENTS.claim,
        values: [c.leaseMs, c.token, c.queue, c.limit, c.cap, c.queue],
      });
      await client.query('commit');
      return rows;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  });
}
