/*
 * telegram_updates: the statements of the intake (a batch stored with the offset, the outbox
 * scan), of the `telegram.update` job (status changes) and of `run telegram:updates`. One
 * function per statement or transaction, for SQLite and PostgreSQL. Errors are stored masked and
 * bounded.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import { redact } from '../logging/redact.js';
import { ERROR_MAX, storableMessage } from '../util/stored-text.js';
import { wholeMs } from '../util/whole.js';
import { nowSql } from './poller-lease.js';

export type UpdateStatus = 'received' | 'queued' | 'handled' | 'failed';
export const UPDATE_STATUSES: readonly UpdateStatus[] = ['received', 'queued', 'handled', 'failed'];

/** An update as Telegram sends it: update_id and one key naming its type. */
export interface RawUpdate {
  update_id: number;
  [type: string]: unknown;
}

export interface UpdateRow {
  id: number;
  bot: string;
  updateId: number;
  type: string;
  chatId: number | null;
  update: string;
  receivedAt: number;
  status: UpdateStatus;
  error: string | null;
  jobId: string | null;
  handledAt: number | null;
}

/** The poller lost its lease while storing: another poller took the bot over. */
export class PollerLeaseLost extends Error {
  constructor(readonly bot: string) {
    super(`The poller lease of bot ${bot} was taken by another poller.`);
    this.name = 'PollerLeaseLost';
  }
}

/** The update's type: its one key besides update_id. */
export function updateType(update: RawUpdate): string {
  return Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';
}

/** The chat an update belongs to, where it names one (message.chat, callback_query.message.chat...). */
export function chatIdOf(update: RawUpdate): number | null {
  const body = update[updateType(update)] as Record<string, unknown> | undefined;
  const chat = (body?.chat ?? (body?.message as Record<string, unknown> | undefined)?.chat) as
    { id?: unknown } | undefined;
  return typeof chat?.id === 'number' ? chat.id : null;
}

export interface StoredBatch {
  /** Rows inserted (new updates). */
  inserted: number;
  /** The inserted rows, oldest first: each needs its `telegram.update` job. */
  rows: Array<{ id: number; updateId: number }>;
  /** Updates already stored (a batch Telegram sent again). */
  duplicates: number;
  /**
   * Updates whose id was stored long ago for another update (Telegram restarted its ids after
   * a week without updates): the old, finished row was replaced by the new update.
   */
  replaced: number[];
  /** Same id, other content, and the old row not finished: kept, the new one dropped (logged). */
  clashes: number[];
}

/**
 * Stores a batch and advances the bot's offset to `offset`, in one transaction (`trx` when
 * given: the caller's, which commits it), if `token` still holds the bot's poller lease
 * (renewing it for `leaseMs`); else throws PollerLeaseLost and stores nothing. New updates are
 * `received` until their job is dispatched (markQueued).
 */
export async function storeBatch(
  db: Database,
  bot: string,
  token: string,
  updates: RawUpdate[],
  offset: number,
  leaseMs: number,
  trx?: Knex.Transaction,
): Promise<StoredBatch> {
  if (!trx) {
    return db.knex.transaction((own) => storeBatch(db, bot, token, updates, offset, leaseMs, own));
  }
  const unique = new Map<number, { update: RawUpdate; text: string }>();
  for (const update of updates) {
    // The same id twice in one batch: the first one counts.
    if (!unique.has(update.update_id))
      unique.set(update.update_id, { update, text: JSON.stringify(update) });
  }
  const result: StoredBatch = { inserted: 0, rows: [], duplicates: 0, replaced: [], clashes: [] };
  const fresh =
    db.dialect === 'pgsql'
      ? await insertNewPg(db, trx, bot, token, unique, offset, leaseMs)
      : undefined;
  if (fresh) {
    result.rows = fresh;
    for (const row of fresh) unique.delete(row.updateId);
  } else {
    await advanceOffset(db, trx, bot, token, offset, leaseMs);
  }
  // What is left is already stored, or (SQLite) not yet looked at.
  if (unique.size > 0) await storeSlowly(db, trx, bot, unique, result);
  result.rows.sort((a, b) => a.id - b.id);
  result.inserted = result.rows.length;
  return result;
}

/** The lease check and the offset, one UPDATE; throws PollerLeaseLost when the lease is gone. */
async function advanceOffset(
  db: Database,
  trx: Knex.Transaction,
  bot: string,
  token: string,
  offset: number,
  leaseMs: number,
): Promise<void> {
  const now = nowSql(db);
  const held = await trx('telegram_state')
    .where({ bot, owner_token: token })
    .update({
      next_offset: offset,
      lease_until: trx.raw(`${now} + ?`, [wholeMs(leaseMs)]),
      updated_at: trx.raw(now),
    });
  if (held !== 1) throw new PollerLeaseLost(bot);
}

/**
 * PostgreSQL, one statement: the lease check and the offset (as advanceOffset), and every
 * update whose (bot, update_id) is not stored yet inserted; the rows inserted come back. A
 * round trip per statement was most of a batch's time (docs/performance.md, "Telegram").
 */
async function insertNewPg(
  db: Database,
  trx: Knex.Transaction,
  bot: string,
  token: string,
  updates: Map<number, { update: RawUpdate; text: string }>,
  offset: number,
  leaseMs: number,
): Promise<Array<{ id: number; updateId: number }>> {
  const now = nowSql(db);
  const list = [...updates.values()];
  const result = await trx.raw(
    `with held as (
       update telegram_state set next_offset = ?, lease_until = ${now} + ?, updated_at = ${now}
        where bot = ? and owner_token = ?
       returning bot),
     ins as (
       insert into telegram_updates (bot, update_id, type, chat_id, "update", received_at, status)
       select held.bot, u.update_id, u.type, u.chat_id, u."update", ${now}, 'received'
         from held cross join unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[])
              with ordinality as u(update_id, type, chat_id, "update", ord)
        order by u.ord
       on conflict (bot, update_id) do nothing
       returning id, update_id)
     select (select count(*) from held) as held, ins.id, ins.update_id
       from (select 1) one left join ins on true`,
    [
      offset,
      wholeMs(leaseMs),
      bot,
      token,
      list.map((u) => u.update.update_id),
      list.map((u) => updateType(u.update).slice(0, 64)),
      list.map((u) => chatIdOf(u.update)),
      list.map((u) => u.text),
    ] as Knex.RawBinding[],
  );
  const rows = (result as { rows: Array<Record<string, unknown>> }).rows;
  if (Number(rows[0]?.held) !== 1) throw new PollerLeaseLost(bot);
  return rows
    .filter((r) => r.id !== null)
    .map((r) => ({ id: Number(r.id), updateId: Number(r.update_id) }));
}

/**
 * Updates that may be stored already, one by one against their rows: the same update again is
 * a duplicate; another update under a finished row's id (ids restarted) replaces it; under a
 * live row's id it is a clash, and dropped.
 */
async function storeSlowly(
  db: Database,
  trx: Knex.Transaction,
  bot: string,
  updates: Map<number, { update: RawUpdate; text: string }>,
  result: StoredBatch,
): Promise<void> {
  const existing = new Map<number, { id: number; update: string; status: string }>();
  for (const row of await trx('telegram_updates')
    .where({ bot })
    .whereIn('update_id', [...updates.keys()])
    .select('id', 'update_id', 'update', 'status')) {
    existing.set(Number(row.update_id), {
      id: Number(row.id),
      update: String(row.update),
      status: String(row.status),
    });
  }
  const rows: Array<Record<string, unknown>> = [];
  for (const { update, text } of updates.values()) {
    const old = existing.get(update.update_id);
    if (old) {
      if (old.update === text) {
        result.duplicates += 1;
        continue;
      }
      // Same id, other update: ids restarted. Replace a finished row; a live one keeps its id.
      if (old.status !== 'handled' && old.status !== 'failed') {
        result.clashes.push(update.update_id);
        continue;
      }
      await trx('telegram_updates').where({ id: old.id }).delete();
      result.replaced.push(update.update_id);
    }
    rows.push({
      bot,
      update_id: update.update_id,
      type: updateType(update).slice(0, 64),
      chat_id: chatIdOf(update),
      update: text,
      received_at: trx.raw(nowSql(db)),
      status: 'received',
    });
  }
  if (rows.length === 0) return;
  const inserted = await trx('telegram_updates').insert(rows).returning(['id', 'update_id']);
  for (const r of inserted as Array<Record<string, unknown>>)
    result.rows.push({ id: Number(r.id), updateId: Number(r.update_id) });
}

/** The bot's `received` rows (stored, no job yet), oldest first. */
export async function receivedRows(
  db: Database,
  bot: string,
  limit: number,
): Promise<Array<{ id: number; updateId: number }>> {
  const rows = await db
    .knex('telegram_updates')
    .where({ bot, status: 'received' })
    .orderBy('id')
    .limit(limit)
    .select('id', 'update_id');
  return rows.map((r) => ({ id: Number(r.id), updateId: Number(r.update_id) }));
}

/**
 * Marks rows `queued` with their job ids, in one transaction (`trx` when given). Only rows
 * still `received`: a job that already ran (handled or failed) keeps its status.
 */
export async function markQueued(
  db: Database,
  jobs: Array<{ id: number; jobId: string }>,
  trx?: Knex.Transaction,
): Promise<void> {
  if (jobs.length === 0) return;
  if (db.dialect === 'pgsql') {
    // One statement for the batch: a round trip per row was most of PostgreSQL's intake time
    // (docs/performance.md, "Telegram").
    await (trx ?? db.knex).raw(
      `update telegram_updates as t set status = 'queued', job_id = v.job_id
         from (select unnest(?::bigint[]) as id, unnest(?::text[]) as job_id) as v
        where t.id = v.id and t.status = 'received'`,
      [jobs.map((j) => j.id), jobs.map((j) => j.jobId)],
    );
    return;
  }
  const run = async (on: Knex.Transaction) => {
    for (const { id, jobId } of jobs) {
      await on('telegram_updates')
        .where({ id, status: 'received' })
        .update({ status: 'queued', job_id: jobId });
    }
  };
  await (trx ? run(trx) : db.knex.transaction(run));
}

export async function findUpdate(db: Database, id: number): Promise<UpdateRow | undefined> {
  const row = await db.knex('telegram_updates').where({ id }).first();
  return row ? toRow(row) : undefined;
}

/** The handler finished: `handled`, with the job that ran it. */
export async function markHandled(db: Database, id: number, jobId: string): Promise<void> {
  await db
    .knex('telegram_updates')
    .where({ id })
    .update({
      status: 'handled',
      job_id: jobId,
      error: null,
      handled_at: db.knex.raw(nowSql(db)),
    });
}

/**
 * An attempt failed. `final` (no tries left, or a permanent error) marks the row `failed`;
 * otherwise it stays queued with the error, for its retry.
 */
export async function markError(
  db: Database,
  id: number,
  jobId: string,
  error: string,
  final: boolean,
): Promise<void> {
  const text = storableMessage(redact(error), ERROR_MAX);
  await db
    .knex('telegram_updates')
    .where({ id })
    .whereNot({ status: 'handled' })
    .update(
      final
        ? { status: 'failed', job_id: jobId, error: text, handled_at: db.knex.raw(nowSql(db)) }
        : { status: 'queued', job_id: jobId, error: text },
    );
}

export interface UpdateFilter {
  status?: UpdateStatus;
  bot?: string;
  /** Newest first, at most this many. */
  limit: number;
}

/** Rows for `run telegram:updates`, newest first. */
export async function listUpdates(db: Database, filter: UpdateFilter): Promise<UpdateRow[]> {
  const query = db.knex('telegram_updates').orderBy('id', 'desc').limit(filter.limit);
  if (filter.status) query.where({ status: filter.status });
  if (filter.bot) query.where({ bot: filter.bot });
  return (await query.select()).map(toRow);
}

function toRow(row: Record<string, unknown>): UpdateRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(row.id),
    bot: String(row.bot),
    updateId: Number(row.update_id),
    type: String(row.type),
    chatId: num(row.chat_id),
    update: String(row.update),
    receivedAt: Number(row.received_at),
    status: String(row.status) as UpdateStatus,
    error: row.error === null || row.error === undefined ? null : String(row.error),
    jobId: row.job_id === null || row.job_id === undefined ? null : String(row.job_id),
    handledAt: num(row.handled_at),
  };
}
