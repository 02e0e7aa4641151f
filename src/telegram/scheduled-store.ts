/*
 * telegram_scheduled_messages (migration 0010): messages to send at a time. The dispatcher
 * claims due rows with one UPDATE that only one process can make (status pending → queued, on
 * SQLite under the database's write lock, on PostgreSQL over rows locked FOR UPDATE SKIP LOCKED),
 * then dispatches each and records its job id. A row a crash left queued with no job id is
 * claimed again once `staleMs` has passed; its dispatch is deduplicated by the job's unique key,
 * and the sender skips a row already sent. Times are epoch ms on the database's clock.
 */
import type { Database } from '../db/connection.js';
import { redact } from '../logging/redact.js';
import { ERROR_MAX, storableMessage } from '../util/stored-text.js';
import { nowSql } from './poller-lease.js';

export type ScheduledStatus = 'pending' | 'queued' | 'sent' | 'failed' | 'cancelled';
export const SCHEDULED_STATUSES: readonly ScheduledStatus[] = [
  'pending',
  'queued',
  'sent',
  'failed',
  'cancelled',
];

export interface ScheduledRow {
  id: number;
  /** The bot's name (or id) as given, or null for the only bot. */
  bot: string | null;
  chatId: string;
  method: string;
  params: Record<string, unknown>;
  sendAt: number;
  status: ScheduledStatus;
  jobId: string | null;
  error: string | null;
  sentAt: number | null;
}

export interface NewScheduled {
  bot?: string;
  chatId: string | number;
  method: string;
  params: Record<string, unknown>;
  /** When to send, epoch ms. */
  sendAt: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function fromRow(row: any): ScheduledRow {
  return {
    id: Number(row.id),
    bot: row.bot ?? null,
    chatId: String(row.chat_id),
    method: row.method,
    params: JSON.parse(row.params) as Record<string, unknown>,
    sendAt: Number(row.send_at),
    status: row.status,
    jobId: row.job_id ?? null,
    error: row.error ?? null,
    sentAt: row.sent_at === null || row.sent_at === undefined ? null : Number(row.sent_at),
  };
}

/** Stores a pending message; returns its id. */
export async function insertScheduled(db: Database, message: NewScheduled): Promise<number> {
  const now = Date.now();
  const [row] = await db
    .knex('telegram_scheduled_messages')
    .insert({
      bot: message.bot ?? null,
      chat_id: String(message.chatId),
      method: message.method,
      params: JSON.stringify(message.params),
      send_at: message.sendAt,
      status: 'pending',
      created_at: now,
      updated_at: now,
    })
    .returning('id');
  return Number(typeof row === 'object' ? (row as { id: number }).id : row);
}

export async function findScheduled(db: Database, id: number): Promise<ScheduledRow | undefined> {
  const row = await db.knex('telegram_scheduled_messages').where({ id }).first();
  return row ? fromRow(row) : undefined;
}

/**
 * Claims up to `limit` due rows, oldest send_at first: pending ones, and queued ones a crash
 * left without a job id for longer than `staleMs`. Each row is returned to one caller only.
 */
export async function claimDue(
  db: Database,
  limit: number,
  staleMs: number,
): Promise<ScheduledRow[]> {
  const now = nowSql(db);
  const lock = db.dialect === 'pgsql' ? 'for update skip locked' : '';
  const sql = `
    update telegram_scheduled_messages
       set status = 'queued', claimed_at = ${now}, updated_at = ${now}
     where id in (
       select id from telegram_scheduled_messages
        where send_at <= ${now}
          and (status = 'pending'
               or (status = 'queued' and job_id is null and claimed_at < ${now} - ?))
        order by send_at, id
        limit ?
        ${lock})
       and (status = 'pending' or (status = 'queued' and job_id is null))
    returning *`;
  const result = await db.knex.raw(sql, [staleMs, limit]);
  const rows = (db.dialect === 'pgsql' ? result.rows : result) as unknown[];
  return rows.map(fromRow).sort((a, b) => a.sendAt - b.sendAt || a.id - b.id);
}

/** Records the job a claimed row went out as. */
export async function markQueued(db: Database, id: number, jobId: string): Promise<void> {
  await db
    .knex('telegram_scheduled_messages')
    .where({ id, status: 'queued' })
    .update({ job_id: jobId, updated_at: Date.now() });
}

/** The sender sent it. */
export async function markScheduledSent(db: Database, id: number, jobId: string): Promise<void> {
  const now = Date.now();
  await db
    .knex('telegram_scheduled_messages')
    .where({ id })
    .whereIn('status', ['pending', 'queued', 'failed'])
    .update({ status: 'sent', job_id: jobId, sent_at: now, error: null, updated_at: now });
}

/** The sender gave up on it (a permanent error, no try left, or the chat is blocked). */
export async function markScheduledFailed(
  db: Database,
  id: number,
  jobId: string,
  error: string,
): Promise<void> {
  await db
    .knex('telegram_scheduled_messages')
    .where({ id })
    .whereIn('status', ['pending', 'queued'])
    .update({
      status: 'failed',
      job_id: jobId,
      error: storableMessage(redact(error), ERROR_MAX),
      updated_at: Date.now(),
    });
}

/** Epoch ms of the next pending message, and the database's now, or undefined if none. */
export async function nextPending(
  db: Database,
): Promise<{ sendAt: number; now: number } | undefined> {
  const row = (await db
    .knex('telegram_scheduled_messages')
    .where({ status: 'pending' })
    .select(db.knex.raw(`min(send_at) as next, ${nowSql(db)} as now`))
    .first()) as { next: unknown; now: unknown } | undefined;
  if (!row || row.next === null || row.next === undefined) return undefined;
  return { sendAt: Number(row.next), now: Number(row.now) };
}

/** Counts by status, for the CLI. */
export async function scheduledCounts(db: Database): Promise<Record<ScheduledStatus, number>> {
  const rows = await db
    .knex('telegram_scheduled_messages')
    .select('status')
    .count({ n: '*' })
    .groupBy('status');
  const counts = Object.fromEntries(SCHEDULED_STATUSES.map((s) => [s, 0])) as Record<
    ScheduledStatus,
    number
  >;
  for (const row of rows as Array<{ status: string; n: unknown }>)
    counts[row.status as ScheduledStatus] = Number(row.n);
  return counts;
}

export interface ScheduledFilter {
  status?: ScheduledStatus;
  /** Only this chat (its id as stored: digits, -100…, or @name). */
  chatId?: string;
  /** At most this many rows. */
  limit: number;
  /** Only rows after this one in the listing's order (a keyset page). */
  after?: { sendAt: number; id: number };
}

/**
 * Scheduled messages for the CLI: the next to go first when listing pending or queued ones,
 * otherwise the latest send time first (what was sent or failed lately).
 */
export async function listScheduled(
  db: Database,
  filter: ScheduledFilter,
): Promise<ScheduledRow[]> {
  const upcoming = filter.status === 'pending' || filter.status === 'queued';
  const query = db.knex('telegram_scheduled_messages');
  if (filter.status) query.where({ status: filter.status });
  if (filter.chatId !== undefined) query.where({ chat_id: filter.chatId });
  const order = upcoming ? 'asc' : 'desc';
  if (filter.after) {
    // A row value walks the (status, send_at, id) or (send_at, id) index from the key on.
    query.whereRaw(`(send_at, id) ${upcoming ? '>' : '<'} (?, ?)`, [
      filter.after.sendAt,
      filter.after.id,
    ]);
  }
  const rows = await query
    .orderBy([
      { column: 'send_at', order },
      { column: 'id', order },
    ])
    .limit(filter.limit);
  return rows.map(fromRow);
}

/** What a cancel did to one id: cancelled now, unknown, or kept with the status it had. */
export type CancelOutcome =
  'cancelled' | 'not-found' | 'already-sent' | 'already-failed' | 'already-cancelled';

/**
 * Cancels messages that have not been sent: `pending` ones, and `queued` ones whose job has not
 * sent them yet (the sender reads the row before it sends and skips a cancelled one). A row
 * already sent, failed or cancelled is left as it is (`already-<status>`).
 */
export async function cancelScheduled(
  db: Database,
  ids: readonly number[],
): Promise<Map<number, CancelOutcome>> {
  const now = Date.now();
  const changed = (await db
    .knex('telegram_scheduled_messages')
    .whereIn('id', ids)
    .whereIn('status', ['pending', 'queued'])
    .update({ status: 'cancelled', updated_at: now })
    .returning('id')) as Array<{ id: number } | number>;
  const done = new Set(changed.map((r) => Number(typeof r === 'object' ? r.id : r)));
  const rest = await db
    .knex('telegram_scheduled_messages')
    .whereIn(
      'id',
      ids.filter((id) => !done.has(id)),
    )
    .select('id', 'status');
  const status = new Map(
    rest.map((r: { id: unknown; status: ScheduledStatus }) => [Number(r.id), r.status]),
  );
  return new Map(
    ids.map((id): [number, CancelOutcome] => [
      id,
      done.has(id)
        ? 'cancelled'
        : status.has(id)
          ? (`already-${status.get(id)}` as CancelOutcome)
          : 'not-found',
    ]),
  );
}
