import type { Knex } from 'knex';
import { gcraParams, orderRequests, usage, waitMs } from './gcra.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitRule,
  RateLimitStore,
  RateLimitTakeOptions,
  RateLimitUsage,
} from './store.js';

/** The server clock in epoch microseconds; clock_timestamp(), never a transaction's stale now(). */
const NOW_US = `(extract(epoch from clock_timestamp()) * 1000000)::bigint`;

/**
 * Rate limits on PostgreSQL. A take is one call of the plpgsql function of migration 0022
 * (jobsmith_rate_limit_take), which locks the keys' rows in the order given, then reads the
 * clock; a push-back is one INSERT ... ON CONFLICT. Times are the server clock, as every
 * PostgreSQL queue decision.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly knex: Knex) {}

  async take(
    requests: readonly RateLimitRequest[],
    options: RateLimitTakeOptions = {},
  ): Promise<RateLimitDecision> {
    const ordered = orderRequests(requests);
    if (ordered.length === 0) return { allowed: true, waitMs: 0 };
    const params = ordered.map((r) => gcraParams(r.rule));
    const { rows } = await this.knex.raw<{
      rows: Array<{ allowed: boolean; idx: number; wait_us: string }>;
    }>(
      'select * from jobsmith_rate_limit_take(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::boolean)',
      [
        ordered.map((r) => r.rule.name),
        ordered.map((r) => r.key),
        params.map((p) => p.intervalUs),
        params.map((p) => p.toleranceUs),
        params.map((p) => p.graceUs),
        options.booked === true,
      ],
    );
    const [row] = rows;
    if (!row) return { allowed: true, waitMs: 0 };
    if (row.allowed) return { allowed: true, waitMs: waitMs(Number(row.wait_us)) };
    const { rule, key } = ordered[row.idx]!;
    return { allowed: false, retryAfterMs: waitMs(Number(row.wait_us)), limit: rule.name, key };
  }

  async block(rule: RateLimitRule, key: string | undefined, ms: number): Promise<void> {
    const pushUs = Math.ceil(ms * 1000);
    if (key === undefined) {
      await this.knex.raw(
        `insert into rate_limit_blocks (name, blocked_until) select ?, ${NOW_US} + ?
         on conflict (name) do update
           set blocked_until = greatest(rate_limit_blocks.blocked_until, excluded.blocked_until)`,
        [rule.name, pushUs],
      );
      return;
    }
    // Free again `ms` from now: tat − tau = now + ms.
    await this.knex.raw(
      `insert into rate_limits (name, "key", tat, backlog) select ?, ?, ${NOW_US} + ?, 0
       on conflict (name, "key") do update set tat = greatest(rate_limits.tat, excluded.tat)`,
      [rule.name, key, pushUs + gcraParams(rule).toleranceUs],
    );
  }

  async list(rule: RateLimitRule, top: number): Promise<RateLimitUsage> {
    const { rows } = await this.knex.raw<{
      rows: Array<{
        now: string;
        blocked: string | null;
        key: string | null;
        tat: string;
        backlog: string;
      }>;
    }>(
      `select clock.now,
              (select blocked_until from rate_limit_blocks where name = ?) as blocked,
              r."key", r.tat, r.backlog
         from (select ${NOW_US} as now) as clock
         left join lateral (
           select "key", tat, backlog from rate_limits
            where name = ? and (tat > clock.now or backlog > clock.now)
            order by greatest(tat, backlog) desc, "key" collate "C" limit ?
         ) as r on true`,
      [rule.name, rule.name, top],
    );
    const first = rows[0]!;
    const keys = rows.filter((r): r is typeof r & { key: string } => r.key !== null);
    return usage(Number(first.now), gcraParams(rule).toleranceUs, Number(first.blocked ?? 0), keys);
  }

  async reset(name: string, key?: string): Promise<boolean> {
    if (key !== undefined)
      return (await this.knex('rate_limits').where({ name, key }).delete()) > 0;
    return this.knex.transaction(async (trx) => {
      const keys = await trx('rate_limits').where({ name }).delete();
      return keys + (await trx('rate_limit_blocks').where({ name }).delete()) > 0;
    });
  }
}
