import type BetterSqlite3 from 'better-sqlite3';
import {
  decide,
  gcraParams,
  orderRequests,
  usage,
  waitMs,
  type GcraItem,
  type KeyState,
} from './gcra.js';
import type {
  RateLimitDecision,
  RateLimitRequest,
  RateLimitRule,
  RateLimitStore,
  RateLimitTakeOptions,
  RateLimitUsage,
} from './store.js';
import { immediateTransaction } from '../../db/sqlite-transaction.js';

/** One take in a hundred sweeps a few idle keys of its limit (see migrations/0006). */
const SWEEP_CHANCE = 0.01;

/**
 * Rate limits on a SQLite file, through the queue driver's own better-sqlite3 connection: each
 * decision is one synchronous `BEGIN IMMEDIATE` transaction, so no other process can write
 * between the read of a key and its update, and none stays open across an await. The clock is
 * Date.now(), as the SQLite queue driver's (the same host clock every process on the file reads).
 */
export class SqliteRateLimitStore implements RateLimitStore {
  private readonly sql;
  // Made once: a transaction wrapper made per take costs about 4 µs (db/sqlite-transaction.ts).
  private readonly takeTransaction;
  private readonly blockTransaction;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.takeTransaction = immediateTransaction(
      db,
      (ordered: RateLimitRequest[], options: RateLimitTakeOptions) =>
        this.takeKeys(ordered, options),
    );
    this.blockTransaction = immediateTransaction(
      db,
      (rule: RateLimitRule, key: string | undefined, ms: number) => this.blockKey(rule, key, ms),
    );
    this.sql = {
      read: db.prepare<[string, string], KeyState>(
        'select tat, backlog from rate_limits where name = ? and "key" = ?',
      ),
      blocked: db.prepare<[string], { blocked_until: number }>(
        'select blocked_until from rate_limit_blocks where name = ?',
      ),
      write: db.prepare(
        `insert into rate_limits (name, "key", tat, backlog) values (@name, @key, @tat, @backlog)
         on conflict (name, "key") do update set tat = excluded.tat, backlog = excluded.backlog`,
      ),
      sweep: db.prepare(
        `delete from rate_limits where rowid in (select rowid from rate_limits
          where name = ? and tat <= ? and backlog <= ? limit 100)`,
      ),
      block: db.prepare(
        `insert into rate_limit_blocks (name, blocked_until) values (?, ?)
         on conflict (name) do update set blocked_until = max(blocked_until, excluded.blocked_until)`,
      ),
      busiest: db.prepare<[string, number, number, number], KeyState & { key: string }>(
        `select "key", tat, backlog from rate_limits
          where name = ? and (tat > ? or backlog > ?)
          order by max(tat, backlog) desc, "key" limit ?`,
      ),
      resetKey: db.prepare('delete from rate_limits where name = ? and "key" = ?'),
      resetAll: db.prepare('delete from rate_limits where name = ?'),
      unblock: db.prepare('delete from rate_limit_blocks where name = ?'),
    };
  }

  async take(
    requests: readonly RateLimitRequest[],
    options: RateLimitTakeOptions = {},
  ): Promise<RateLimitDecision> {
    const ordered = orderRequests(requests);
    if (ordered.length === 0) return { allowed: true, waitMs: 0 };
    return this.takeTransaction(ordered, options);
  }

  /** A take's reads, decision and writes, inside its transaction. */
  private takeKeys(ordered: RateLimitRequest[], options: RateLimitTakeOptions): RateLimitDecision {
    const now = Date.now() * 1000;
    const items = ordered.map((r): GcraItem => {
      const state = this.sql.read.get(r.rule.name, r.key);
      const blocked = this.sql.blocked.get(r.rule.name);
      return {
        ...gcraParams(r.rule),
        state: { tat: state?.tat ?? 0, backlog: state?.backlog ?? 0 },
        blockedUntil: blocked?.blocked_until ?? 0,
      };
    });
    const before = items.map((item) => ({ ...item.state }));
    const decision = decide(now, items, options.booked);
    items.forEach((item, i) => {
      const { rule, key } = ordered[i]!;
      const { tat, backlog } = item.state;
      if (tat !== before[i]!.tat || backlog !== before[i]!.backlog)
        this.sql.write.run({ name: rule.name, key, tat, backlog });
    });
    if (Math.random() < SWEEP_CHANCE) this.sql.sweep.run(ordered[0]!.rule.name, now, now);
    if (decision.allowed) return { allowed: true, waitMs: waitMs(decision.waitUs) };
    const { rule, key } = ordered[decision.index]!;
    return { allowed: false, retryAfterMs: waitMs(decision.waitUs), limit: rule.name, key };
  }

  async block(rule: RateLimitRule, key: string | undefined, ms: number): Promise<void> {
    this.blockTransaction(rule, key, ms);
  }

  private blockKey(rule: RateLimitRule, key: string | undefined, ms: number): void {
    const now = Date.now() * 1000;
    if (key === undefined) {
      this.sql.block.run(rule.name, now + ms * 1000);
      return;
    }
    const state = this.sql.read.get(rule.name, key) ?? { tat: 0, backlog: 0 };
    // Free again `ms` from now: tat − tau = now + ms.
    const tat = Math.max(state.tat, now + ms * 1000 + gcraParams(rule).toleranceUs);
    this.sql.write.run({ name: rule.name, key, tat, backlog: state.backlog });
  }

  async list(rule: RateLimitRule, top: number): Promise<RateLimitUsage> {
    const nowUs = Date.now() * 1000;
    const { toleranceUs } = gcraParams(rule);
    const blocked = this.sql.blocked.get(rule.name)?.blocked_until ?? 0;
    const rows = this.sql.busiest.all(rule.name, nowUs, nowUs, top);
    return usage(nowUs, toleranceUs, blocked, rows);
  }

  async reset(name: string, key?: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (key !== undefined) return this.sql.resetKey.run(name, key).changes > 0;
        const keys = this.sql.resetAll.run(name).changes;
        return keys + this.sql.unblock.run(name).changes > 0;
      })
      .immediate();
  }
}
