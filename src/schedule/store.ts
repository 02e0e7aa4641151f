import type { Database } from '../db/connection.js';
import {
  DETAIL_MAX,
  KEY_MAX,
  boundText,
  storableKey,
  storableMessage,
} from '../util/stored-text.js';
import { wholeMs, wholeTime } from '../util/whole.js';
import { redact } from '../logging/redact.js';

/*
 * Every statement the scheduler runs, one function each, for SQLite and PostgreSQL. Times that
 * decide something (lease expiry, started/finished) come from the database clock, so hosts with
 * skewed clocks still agree.
 *
 * This is the scheduler's storage boundary: times and lengths are rounded to whole milliseconds
 * (bigint columns), the scope (a host name, part of a slot's primary key) is stored as an
 * identity (src/util/stored-text.ts), and details are masked, storable and bounded.
 */

/** A slot's key as stored: whole time, and a scope the column can hold. */
function slotWhere(key: SlotKey) {
  return { entry: key.entry, slot_at: wholeTime(key.slotAt), scope: storableKey(key.scope) };
}

/** Epoch ms from the database clock, as an SQL expression. */
function nowSql(db: Database): string {
  return db.dialect === 'pgsql'
    ? '(extract(epoch from clock_timestamp()) * 1000)::bigint'
    : "cast(unixepoch('subsec') * 1000 as integer)";
}

export async function databaseNow(db: Database): Promise<number> {
  const result = await db.knex.raw(`select ${nowSql(db)} as now`);
  const rows = db.dialect === 'pgsql' ? result.rows : result;
  return Number(rows[0].now);
}

export interface SlotKey {
  entry: string;
  slotAt: number;
  /** '*' or a host name. */
  scope: string;
}

/**
 * Takes a slot: inserts its row unless one exists. True when this call inserted it, so this
 * process fires the slot; false when another scheduler already has.
 */
export async function claimSlot(db: Database, key: SlotKey, owner: string): Promise<boolean> {
  const rows = await db
    .knex('schedule_slots')
    .insert({
      ...slotWhere(key),
      owner: boundText(owner, KEY_MAX),
      started_at: db.knex.raw(nowSql(db)),
      outcome: 'running',
    })
    .onConflict(['entry', 'slot_at', 'scope'])
    .ignore()
    .returning('entry');
  return rows.length === 1;
}

/** Records how a slot ended. */
export async function finishSlot(
  db: Database,
  key: SlotKey,
  outcome: 'ok' | 'failed' | 'skipped',
  detail: string,
): Promise<void> {
  await db
    .knex('schedule_slots')
    .where(slotWhere(key))
    .update({
      outcome,
      detail: storableMessage(redact(detail), DETAIL_MAX),
      finished_at: db.knex.raw(nowSql(db)),
    });
}

/** Deletes slot rows older than `before` (epoch ms); returns how many. */
export async function pruneSlots(db: Database, before: number): Promise<number> {
  return db.knex('schedule_slots').where('slot_at', '<', wholeTime(before)).delete();
}

export interface SlotRow {
  entry: string;
  slotAt: number;
  scope: string;
  owner: string;
  startedAt: number;
  finishedAt: number | null;
  outcome: string;
  detail: string | null;
}

/** The latest fired slot of each entry. */
export async function lastSlots(db: Database): Promise<Map<string, SlotRow>> {
  const latest = db
    .knex('schedule_slots')
    .select('entry')
    .max({ slot_at: 'slot_at' })
    .groupBy('entry')
    .as('latest');
  const rows: Array<Record<string, unknown>> = await db
    .knex('schedule_slots as s')
    .join(latest, function () {
      this.on('s.entry', '=', 'latest.entry').andOn('s.slot_at', '=', 'latest.slot_at');
    })
    .select('s.*');
  return new Map(
    rows.map((r) => [
      String(r.entry),
      {
        entry: String(r.entry),
        slotAt: Number(r.slot_at),
        scope: String(r.scope),
        owner: String(r.owner),
        startedAt: Number(r.started_at),
        finishedAt: r.finished_at === null ? null : Number(r.finished_at),
        outcome: String(r.outcome),
        detail: r.detail === null ? null : String(r.detail),
      },
    ]),
  );
}

export interface LeaseHolder {
  owner: string;
  /** Epoch ms (database clock) when the lease ends unless renewed. */
  expiresAt: number;
}

/**
 * Takes an entry's overlap lease: inserts it, or takes over a row whose lease has expired, in
 * one statement. True when `token` now holds it.
 */
export async function acquireLease(
  db: Database,
  entry: string,
  owner: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const now = nowSql(db);
  const result = await db.knex.raw(
    `insert into schedule_leases (entry, owner, token, acquired_at, expires_at)
     values (?, ?, ?, ${now}, ${now} + ?)
     on conflict (entry) do update
        set owner = excluded.owner, token = excluded.token,
            acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      where schedule_leases.expires_at <= ${now}
     returning token`,
    [entry, boundText(owner, KEY_MAX), token, wholeMs(leaseMs)],
  );
  const rows: Array<{ token: string }> = db.dialect === 'pgsql' ? result.rows : result;
  return rows.length === 1 && rows[0]!.token === token;
}

/** Who holds an entry's lease, if anyone does. */
export async function leaseHolder(db: Database, entry: string): Promise<LeaseHolder | undefined> {
  const row = await db.knex('schedule_leases').where({ entry }).first('owner', 'expires_at');
  return row ? { owner: String(row.owner), expiresAt: Number(row.expires_at) } : undefined;
}

/** Extends a lease we hold; false when it is no longer ours (it expired and was taken). */
export async function renewLease(
  db: Database,
  entry: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const count = await db
    .knex('schedule_leases')
    .where({ entry, token })
    .update({ expires_at: db.knex.raw(`${nowSql(db)} + ?`, [wholeMs(leaseMs)]) });
  return count === 1;
}

export async function releaseLease(db: Database, entry: string, token: string): Promise<void> {
  await db.knex('schedule_leases').where({ entry, token }).delete();
}
