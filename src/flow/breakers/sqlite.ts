/*
 * Breakers on SQLite: each decision reads the row, decides (machine.ts) and writes it back in
 * one `BEGIN IMMEDIATE` transaction on the driver's own better-sqlite3 connection, so two
 * processes on the file cannot both take the probe or both miss a failure. The clock is the
 * database's (unixepoch), as for the queue tables.
 */
import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { admitStep, recordStep, statusOf, type BreakerRow } from './machine.js';
import type { BreakerSettings } from './settings.js';
import type { BreakerOutcome, BreakerState, BreakerStore } from './store.js';
import { immediateTransaction } from '../../db/sqlite-transaction.js';

interface SqlRow {
  name: string;
  state: string;
  failures: number;
  window_started_at: number | null;
  window_ms: number | null;
  opened_at: number | null;
  until_at: number | null;
  probe_token: string | null;
}

export class SqliteBreakerStore implements BreakerStore {
  private statements?: ReturnType<typeof prepare>;
  // Made once: a transaction wrapper made per call costs about 4 µs (db/sqlite-transaction.ts).
  private readonly admitTransaction;
  private readonly recordTransaction;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.admitTransaction = immediateTransaction(db, (settings: BreakerSettings, token: string) => {
      const now = this.now();
      const step = admitStep(this.read(settings.name), now, settings, token);
      if (step.write) this.write(step.write, now);
      return step.admission;
    });
    this.recordTransaction = immediateTransaction(
      db,
      (settings: BreakerSettings, outcome: BreakerOutcome, probe: string | undefined) => {
        const now = this.now();
        const step = recordStep(this.read(settings.name), now, settings, outcome, probe);
        if (step.write) this.write(step.write, now);
        return step.transition;
      },
    );
  }

  /** Prepared on first use: a worker whose jobs have no breaker never reads the table. */
  private get sql() {
    return (this.statements ??= prepare(this.db));
  }

  async admit(settings: BreakerSettings) {
    const token = randomUUID();
    // Nearly every job finds its breaker closed (or open a while yet): one read decides, and
    // only a job that may become the probe takes the write lock, which claims also need.
    const seen = admitStep(this.read(settings.name), this.now(), settings, token);
    if (!seen.write) return seen.admission;
    return this.admitTransaction(settings, token);
  }

  async record(settings: BreakerSettings, outcome: BreakerOutcome, probe?: string) {
    // A success of a closed breaker's job changes nothing: no transaction for it.
    if (outcome !== 'failure' && probe === undefined) return undefined;
    return this.recordTransaction(settings, outcome, probe);
  }

  async list() {
    const now = this.now();
    return (this.sql.all.all() as SqlRow[]).map((r) => statusOf(fromSql(r), now));
  }

  async reset(name: string) {
    return this.sql.remove.run(name).changes > 0;
  }

  private now(): number {
    return this.sql.now.pluck().get() as number;
  }

  private read(name: string): BreakerRow | undefined {
    const row = this.sql.read.get(name) as SqlRow | undefined;
    return row && fromSql(row);
  }

  private write(row: BreakerRow, now: number): void {
    this.sql.write.run({
      name: row.name,
      state: row.state,
      failures: row.failures,
      window_started_at: row.windowStartedAt,
      window_ms: row.windowMs,
      opened_at: row.openedAt,
      until_at: row.until,
      probe_token: row.probeToken,
      updated_at: now,
    });
  }
}

function prepare(db: BetterSqlite3.Database) {
  const columns =
    'name, state, failures, window_started_at, window_ms, opened_at, until_at, probe_token';
  return {
    now: db.prepare(`select cast(unixepoch('subsec') * 1000 as integer)`),
    read: db.prepare(`select ${columns} from breakers where name = ?`),
    all: db.prepare(`select ${columns} from breakers order by name`),
    write: db.prepare(
      `insert into breakers (${columns}, updated_at)
       values (@name, @state, @failures, @window_started_at, @window_ms, @opened_at, @until_at,
               @probe_token, @updated_at)
       on conflict (name) do update set
         state = excluded.state, failures = excluded.failures,
         window_started_at = excluded.window_started_at, window_ms = excluded.window_ms,
         opened_at = excluded.opened_at, until_at = excluded.until_at,
         probe_token = excluded.probe_token, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare('delete from breakers where name = ?'),
  };
}

function fromSql(r: SqlRow): BreakerRow {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    name: r.name,
    state: r.state as BreakerState,
    failures: Number(r.failures),
    windowStartedAt: n(r.window_started_at),
    windowMs: n(r.window_ms),
    openedAt: n(r.opened_at),
    until: n(r.until_at),
    probeToken: r.probe_token,
  };
}
