import type { Knex } from 'knex';

/*
 * SQL of alert_states (migration 0020), one function per statement. Every change a checker
 * makes is fenced by the row's version: `update ... where name = ? and version = <read>`, so
 * of several checkers that read the same row (cron on two hosts, schedule:work, metrics:serve),
 * exactly one changes it, and only that one sends the notification the change calls for.
 */

const TABLE = 'alert_states';

export type AlertState = 'ok' | 'pending' | 'firing';
/** A notification a change of state owes. */
export type Notice = 'firing' | 'resolved';

export interface AlertRow {
  name: string;
  state: AlertState;
  pendingSince: number | null;
  firingSince: number | null;
  resolvedAt: number | null;
  lastNotifiedAt: number | null;
  lastValue: number | null;
  version: number;
  notice: Notice | null;
  noticeAt: number | null;
  updatedAt: number;
}

/** The columns a change may set (besides version and updated_at, which every change sets). */
export type AlertChange = Partial<
  Pick<
    AlertRow,
    | 'state'
    | 'pendingSince'
    | 'firingSince'
    | 'resolvedAt'
    | 'lastNotifiedAt'
    | 'lastValue'
    | 'notice'
    | 'noticeAt'
  >
>;

const COLUMNS: Record<keyof AlertChange, string> = {
  state: 'state',
  pendingSince: 'pending_since',
  firingSince: 'firing_since',
  resolvedAt: 'resolved_at',
  lastNotifiedAt: 'last_notified_at',
  lastValue: 'last_value',
  notice: 'notice',
  noticeAt: 'notice_at',
};

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function fromRow(r: Record<string, unknown>): AlertRow {
  return {
    name: String(r.name),
    state: String(r.state) as AlertState,
    pendingSince: num(r.pending_since),
    firingSince: num(r.firing_since),
    resolvedAt: num(r.resolved_at),
    lastNotifiedAt: num(r.last_notified_at),
    lastValue: num(r.last_value),
    version: Number(r.version),
    notice: (r.notice ?? null) as Notice | null,
    noticeAt: num(r.notice_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The state of a name never stored: ok, as of `now`. */
export function freshRow(name: string, now: number): AlertRow {
  return {
    name,
    state: 'ok',
    pendingSince: null,
    firingSince: null,
    resolvedAt: null,
    lastNotifiedAt: null,
    lastValue: null,
    version: 0,
    notice: null,
    noticeAt: null,
    updatedAt: now,
  };
}

/** Adds an `ok` row for each name that has none; existing rows are left as they are. */
export async function insertMissing(knex: Knex, names: string[], now: number): Promise<void> {
  if (names.length === 0) return;
  await knex(TABLE)
    .insert(names.map((name) => ({ name, state: 'ok', version: 0, updated_at: now })))
    .onConflict('name')
    .ignore();
}

/** The rows of `names` (all rows without), by name. */
export async function readStates(knex: Knex, names?: string[]): Promise<Map<string, AlertRow>> {
  const q = knex(TABLE).select();
  if (names) q.whereIn('name', names);
  const rows = (await q) as Array<Record<string, unknown>>;
  return new Map(rows.map((r) => [String(r.name), fromRow(r)]));
}

/**
 * Applies `change` to the row if it is still at `version`, bumping the version. Returns the row
 * as changed, or undefined when another checker changed it first (this one lost).
 */
export async function changeState(
  knex: Knex,
  row: AlertRow,
  change: AlertChange,
  now: number,
): Promise<AlertRow | undefined> {
  const set: Record<string, unknown> = { version: row.version + 1, updated_at: now };
  for (const [key, value] of Object.entries(change)) set[COLUMNS[key as keyof AlertChange]] = value;
  const count = await knex(TABLE).where({ name: row.name, version: row.version }).update(set);
  return count === 1 ? { ...row, ...change, version: row.version + 1, updatedAt: now } : undefined;
}

/**
 * Records what a check measured when nothing else changed. No version bump: it decides
 * nothing, and a checker that lost the race may write it too.
 */
export async function recordValue(
  knex: Knex,
  row: AlertRow,
  value: number | null,
  now: number,
): Promise<void> {
  await knex(TABLE)
    .where({ name: row.name, version: row.version })
    .update({ last_value: value, updated_at: now });
}
