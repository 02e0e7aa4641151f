/*
 * telegram_state: one row per bot with the next getUpdates offset and the poller lease, so that
 * one `run longpoll` polls a bot at a time (Telegram answers a second poller with 409 and the
 * two would take turns losing their long polls). Expiry is on the database clock, so hosts with
 * skewed clocks agree; a poller that dies stops renewing and the next one takes over when the
 * lease runs out. One function per statement, for SQLite and PostgreSQL.
 */
import type { Database } from '../db/connection.js';
import { boundText, KEY_MAX } from '../util/stored-text.js';
import { wholeMs } from '../util/whole.js';

/** Epoch ms from the database clock, as an SQL expression. */
export function nowSql(db: Database): string {
  return db.dialect === 'pgsql'
    ? '(extract(epoch from clock_timestamp()) * 1000)::bigint'
    : "cast(unixepoch('subsec') * 1000 as integer)";
}

function rowsOf<T>(db: Database, result: unknown): T[] {
  return (db.dialect === 'pgsql' ? (result as { rows: T[] }).rows : result) as T[];
}

export interface PollerState {
  /** The next offset to ask for, or undefined before the first stored batch. */
  offset?: number;
  /** Who holds the lease (host:pid), if anyone does. */
  owner?: string;
  /** When the lease runs out, epoch ms on the database clock. */
  leaseUntil?: number;
  /** The database clock when this was read. */
  now: number;
}

/**
 * Takes the bot's poller lease for `leaseMs` when nobody holds it, it ran out, or `token`
 * already holds it. True when it is ours now. The stored offset is kept.
 */
export async function acquirePoller(
  db: Database,
  bot: string,
  owner: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const now = nowSql(db);
  const result = await db.knex.raw(
    `insert into telegram_state (bot, next_offset, owner, owner_token, lease_until, updated_at)
     values (?, null, ?, ?, ${now} + ?, ${now})
     on conflict (bot) do update
        set owner = excluded.owner, owner_token = excluded.owner_token,
            lease_until = excluded.lease_until, updated_at = excluded.updated_at
      where telegram_state.owner_token is null
         or telegram_state.lease_until <= ${now}
         or telegram_state.owner_token = excluded.owner_token
     returning owner_token`,
    [bot, boundText(owner, KEY_MAX), token, wholeMs(leaseMs)],
  );
  const rows = rowsOf<{ owner_token: string }>(db, result);
  return rows.length === 1 && rows[0]!.owner_token === token;
}

/** Extends the lease `token` holds; false when it is no longer ours (it ran out and was taken). */
export async function renewPoller(
  db: Database,
  bot: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const count = await db
    .knex('telegram_state')
    .where({ bot, owner_token: token })
    .update({
      lease_until: db.knex.raw(`${nowSql(db)} + ?`, [wholeMs(leaseMs)]),
      updated_at: db.knex.raw(nowSql(db)),
    });
  return count === 1;
}

/** Frees the lease if `token` still holds it, keeping the offset. */
export async function releasePoller(db: Database, bot: string, token: string): Promise<void> {
  await db
    .knex('telegram_state')
    .where({ bot, owner_token: token })
    .update({ owner: null, owner_token: null, lease_until: null });
}

/** The bot's offset and lease, with the database clock. */
export async function pollerState(db: Database, bot: string): Promise<PollerState> {
  const result = await db.knex.raw(
    `select next_offset, owner, owner_token, lease_until, ${nowSql(db)} as now
       from (select cast(? as varchar(32)) as wanted) w left join telegram_state s on s.bot = w.wanted`,
    [bot],
  );
  const [row] = rowsOf<Record<string, unknown>>(db, result);
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  return {
    offset: num(row?.next_offset),
    owner: row?.owner_token ? String(row.owner) : undefined,
    leaseUntil: row?.owner_token ? num(row.lease_until) : undefined,
    now: Number(row?.now),
  };
}
