/*
 * Breakers on PostgreSQL: each decision is one statement, so it is atomic without a
 * transaction of ours. Concurrent decisions on one breaker serialize on its row lock, and an
 * UPDATE (or ON CONFLICT DO UPDATE) re-checks its WHERE against the row as the other left it:
 * two workers cannot both take the probe, and no failure is lost. The clock is the database's.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { statusOf, type BreakerRow } from './machine.js';
import type { BreakerSettings } from './settings.js';
import {
  HALF_OPEN_WAIT_MS,
  type Admission,
  type BreakerOutcome,
  type BreakerState,
  type BreakerStore,
  type BreakerTransition,
} from './store.js';

/** The database clock in epoch milliseconds, evaluated once per statement. */
const NOW = `with n as (select cast(extract(epoch from clock_timestamp()) * 1000 as bigint) as t)`;

/**
 * The cooldown ended (open) or the probe's lease did (half-open): the caller becomes the probe.
 * The last select reads the row as it was when the statement began: when another worker took
 * the probe first, it still shows the cooldown over, and the caller waits for the probe.
 */
const ADMIT = `${NOW},
probe as (
  update breakers b set state = 'half-open', probe_token = :token, until_at = n.t + :lease,
         updated_at = n.t
    from n
   where b.name = :name and b.state <> 'closed' and b.until_at <= n.t
  returning b.name
)
select n.t as now, b.state, b.until_at, (select count(*) from probe) as probed
  from n left join breakers b on b.name = :name`;

/** Fresh: no window yet, or the last one has passed; this failure starts a new one at 1. */
const FRESH = `(b.window_started_at is null or b.window_started_at + excluded.window_ms <= excluded.updated_at)`;
const COUNT = `(case when ${FRESH} then 1 else b.failures + 1 end)`;

/** A failure of a closed breaker's job; the WHERE leaves an open or half-open one alone. */
const FAILURE = `${NOW}
insert into breakers as b
  (name, state, failures, window_started_at, window_ms, opened_at, until_at, updated_at)
select :name, case when 1 >= :threshold then 'open' else 'closed' end, 1, n.t, :window,
       case when 1 >= :threshold then n.t end, case when 1 >= :threshold then n.t + :cooldown end,
       n.t
  from n
on conflict (name) do update set
  failures = ${COUNT},
  window_started_at = case when ${FRESH} then excluded.updated_at else b.window_started_at end,
  window_ms = excluded.window_ms,
  state = case when ${COUNT} >= :threshold then 'open' else 'closed' end,
  opened_at = case when ${COUNT} >= :threshold then excluded.updated_at end,
  until_at = case when ${COUNT} >= :threshold then excluded.updated_at + :cooldown end,
  updated_at = excluded.updated_at
where b.state = 'closed'
returning b.state, b.failures, b.until_at`;

/** What a probe's outcome sets, fenced by its token. */
const PROBE_SET: Record<BreakerOutcome, string> = {
  success: `state = 'closed', failures = 0, window_started_at = null, window_ms = null,
            opened_at = null, until_at = null`,
  failure: `state = 'open', opened_at = n.t, until_at = n.t + :cooldown`,
  // Still half-open, the lease ended now: the next job probes at once.
  neutral: `until_at = n.t`,
};

const probeSql = (outcome: BreakerOutcome) => `${NOW}
update breakers b set ${PROBE_SET[outcome]}, probe_token = null, updated_at = n.t
  from n
 where b.name = :name and b.state = 'half-open' and b.probe_token = :probe
returning b.failures, b.until_at`;

type Row = Record<string, unknown>;

export class PostgresBreakerStore implements BreakerStore {
  constructor(private readonly knex: Knex) {}

  private async query(sql: string, bindings: Record<string, unknown>): Promise<Row[]> {
    return ((await this.knex.raw(sql, bindings as Knex.ValueDict)) as { rows: Row[] }).rows;
  }

  async admit(s: BreakerSettings): Promise<Admission> {
    const token = randomUUID();
    const [row] = await this.query(ADMIT, { token, lease: s.probeLeaseMs, name: s.name });
    if (Number(row!.probed) > 0) return { run: true, probe: token };
    const state = row!.state as BreakerState | null;
    if (state === null || state === 'closed') return { run: true };
    const left = Number(row!.until_at) - Number(row!.now);
    if (state === 'open' && left > 0) return { run: false, retryAfterMs: left, state };
    // Half-open with a probe running, or another worker took the probe as we asked.
    const wait = left > 0 ? Math.min(left, HALF_OPEN_WAIT_MS) : HALF_OPEN_WAIT_MS;
    return { run: false, retryAfterMs: wait, state: 'half-open' };
  }

  async record(
    s: BreakerSettings,
    outcome: BreakerOutcome,
    probe?: string,
  ): Promise<BreakerTransition | undefined> {
    if (probe !== undefined) {
      const [row] = await this.query(probeSql(outcome), {
        name: s.name,
        probe,
        cooldown: s.cooldownMs,
      });
      if (!row || outcome === 'neutral') return undefined;
      if (outcome === 'success') return { to: 'closed' };
      return {
        to: 'open',
        failures: Number(row.failures),
        until: Number(row.until_at),
        reopened: true,
      };
    }
    if (outcome !== 'failure') return undefined;
    const [row] = await this.query(FAILURE, {
      name: s.name,
      threshold: s.failures,
      window: s.windowMs,
      cooldown: s.cooldownMs,
    });
    if (!row || row.state !== 'open') return undefined;
    return {
      to: 'open',
      failures: Number(row.failures),
      until: Number(row.until_at),
      reopened: false,
    };
  }

  async list() {
    const rows = await this.query(
      `${NOW} select b.*, n.t as now from breakers b, n order by b.name`,
      {},
    );
    return rows.map((r) => statusOf(fromSql(r), Number(r.now)));
  }

  async reset(name: string) {
    return (await this.knex('breakers').where({ name }).delete()) > 0;
  }
}

function fromSql(r: Row): BreakerRow {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    name: String(r.name),
    state: r.state as BreakerState,
    failures: Number(r.failures),
    windowStartedAt: n(r.window_started_at),
    windowMs: n(r.window_ms),
    openedAt: n(r.opened_at),
    until: n(r.until_at),
    probeToken: (r.probe_token as string | null) ?? null,
  };
}
