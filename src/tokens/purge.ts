/*
 * Deletes the app's expired refresh tokens in batches: each batch is one DELETE of at most
 * `batch` rows, committed on its own, so no lock is held longer than one batch takes and the
 * app's own writes go on between them.
 *
 * The cutoff is read once, from the database's clock, before the first batch: a token that
 * expires while the purge runs stays for the next one, so the rows that go are exactly those
 * expired (for longer than the grace) when it started.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import { ConfigError, JobsmithError } from '../errors.js';
import type { TokenSettings } from './settings.js';
import { inspectTokenTable, type TokenTable } from './table.js';

/** --batch when none is given. */
export const DEFAULT_BATCH = 1000;
/** The largest --batch: a bigger DELETE holds its locks long enough to stall the app. */
export const MAX_BATCH = 100_000;

/** Unix times from this on are read as milliseconds (1e11 seconds is the year 5138). */
const MS_FROM = 100_000_000_000;

/**
 * 2000-01-01T00:00:00Z in ms. A refresh token that expired before it is not a token: it is a
 * column that holds something else (an id, a count) or a sentinel such as 0 for "never". Read
 * as unix time, every such value is long expired, so a purge would delete every row.
 */
const PLAUSIBLE_FROM_MS = 946_684_800_000;

export interface PurgeOptions {
  /** Rows one DELETE removes at most: 1 to MAX_BATCH. @defaultValue 1000 */
  batch?: number;
  /**
   * Grace after expiry, in ms: a token goes once it expired more than this long ago.
   * @defaultValue 0
   */
  olderThanMs?: number;
  /** Count the tokens that would go; delete nothing. @defaultValue false */
  dryRun?: boolean;
  /** Called after each batch with the tokens deleted so far (progress). */
  onBatch?: (deleted: number) => void;
}

export interface PurgeResult {
  /** The table and column as configured. */
  table: string;
  expiresAt: string;
  /** Where: the SQLite file, or the PostgreSQL URL with its password masked. */
  database: string;
  /** Tokens that expired before this went (the database's now minus the grace). */
  cutoff: Date;
  olderThanMs: number;
  dryRun: boolean;
  /** Tokens past the cutoff when the purge started (with --dry-run: those that would go). */
  expired: number;
  /** Tokens deleted (0 with --dry-run). */
  deleted: number;
  /** DELETE statements that removed rows. */
  batches: number;
}

/**
 * Deletes (or with dryRun counts) the tokens of `settings.table` whose `settings.expiresAt` is
 * before the database's now minus `olderThanMs`.
 *
 * @throws ConfigError (from inspectTokenTable) when the table or column is missing or unusable;
 *   nothing is deleted then. JobsmithError (exit 1) when a batch fails: it says how many tokens
 *   the batches before it deleted (those stay deleted).
 */
export async function purgeExpiredTokens(
  db: Database,
  settings: TokenSettings,
  options: PurgeOptions = {},
): Promise<PurgeResult> {
  const batch = options.batch ?? DEFAULT_BATCH;
  const olderThanMs = options.olderThanMs ?? 0;
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > MAX_BATCH)
    throw new RangeError(`batch must be a whole number from 1 to ${MAX_BATCH}, got ${batch}`);
  const table = await inspectTokenTable(db, settings);
  await refuseImplausibleExpiries(db, settings, table);
  const cutoffMs = (await databaseNowMs(db)) - olderThanMs;
  const expired = expiredCondition(db.knex, table, cutoffMs);
  const result: PurgeResult = {
    table: settings.table,
    expiresAt: settings.expiresAt,
    database: db.describe,
    cutoff: new Date(cutoffMs),
    olderThanMs,
    dryRun: options.dryRun ?? false,
    expired: await countExpired(db.knex, table, expired),
    deleted: 0,
    batches: 0,
  };
  if (result.dryRun || result.expired === 0) return result;
  const deleteBatch =
    table.dialect === 'sqlite'
      ? sqliteBatches(db.knex, table, expired, batch)
      : postgresBatches(db.knex, table, expired, batch);
  // Every round deletes at least one row or ends the loop, so it ends.
  for (;;) {
    let deleted: number;
    try {
      deleted = await deleteBatch();
    } catch (error) {
      throw new JobsmithError(
        `Purging ${settings.table} in ${db.describe} stopped after deleting ${result.deleted} of ${result.expired} expired tokens: ${(error as Error).message}`,
        {
          hint: 'Fix the cause and run it again: deleted tokens stay deleted, the others go then.',
          cause: error,
        },
      );
    }
    if (deleted === 0) break;
    result.deleted += deleted;
    result.batches++;
    options.onBatch?.(result.deleted);
  }
  return result;
}

/** The database's clock in ms since the epoch (the decision is the database's, as for jobs). */
async function databaseNowMs(db: Database): Promise<number> {
  if (db.dialect === 'sqlite') {
    const rows: Array<{ ms: number }> = await db.knex.raw(
      "select (julianday('now') - 2440587.5) * 86400000.0 as ms",
    );
    return Math.round(rows[0]!.ms);
  }
  const { rows } = await db.knex.raw<{ rows: Array<{ ms: number }> }>(
    'select (extract(epoch from now()) * 1000)::float8 as ms',
  );
  return Math.round(rows[0]!.ms);
}

/** `column < cutoff`, in the column's own terms so an index on it is used where it can be. */
function expiredCondition(knex: Knex, table: TokenTable, cutoffMs: number): Knex.Raw {
  const c = table.column;
  switch (table.kind) {
    case 'timestamptz':
      return knex.raw('?? < to_timestamp(?::float8 / 1000)', [c, cutoffMs]);
    case 'timestamp':
      return knex.raw("?? < (to_timestamp(?::float8 / 1000) at time zone 'UTC')", [c, cutoffMs]);
    case 'epoch': {
      // Seconds are below MS_FROM, so `c < seconds` never catches a millisecond value. A whole
      // number of seconds is expired when it is below the cutoff rounded up.
      const t = table.numberType!;
      const seconds = t === 'int8' ? Math.ceil(cutoffMs / 1000) : cutoffMs / 1000;
      return knex.raw(`(?? < ?::${t} or (?? >= ?::${t} and ?? < ?::${t}))`, [
        c,
        seconds,
        c,
        MS_FROM,
        c,
        cutoffMs,
      ]);
    }
    case 'sqlite':
      // Per value: numbers (or numeric text) are unix seconds, or ms from MS_FROM on; other
      // text is an ISO 8601 date/time for julianday(). NULL and unreadable text never go.
      return knex.raw(
        `(case
            when typeof(??) in ('integer', 'real')
              or (typeof(??) = 'text' and ?? <> '' and ?? not glob '*[^0-9.]*')
              then case when cast(?? as real) >= ${MS_FROM} then cast(?? as real)
                        else cast(?? as real) * 1000 end
            when typeof(??) = 'text' then (julianday(??) - 2440587.5) * 86400000.0
          end) < ?`,
        [c, c, c, c, c, c, c, c, c, cutoffMs],
      );
  }
}

/**
 * Refuses to purge when any row's expiry reads as a time before 2000 (PLAUSIBLE_FROM_MS): the
 * column is not what tokens.expiresAt should name, or it holds sentinels, and deleting by it
 * would take rows that are not expired tokens. Nothing is deleted then.
 *
 * @throws ConfigError naming the column, how many rows and the fix.
 */
async function refuseImplausibleExpiries(
  db: Database,
  settings: TokenSettings,
  table: TokenTable,
): Promise<void> {
  const implausible = await countExpired(
    db.knex,
    table,
    expiredCondition(db.knex, table, PLAUSIBLE_FROM_MS),
  );
  if (implausible === 0) return;
  throw new ConfigError(
    `tokens.expiresAt: in ${implausible} row(s) of ${settings.table} in ${db.describe}, column ${settings.expiresAt} reads as a time before 2000-01-01 (numbers are read as unix seconds, or milliseconds from 1e11 on), so ${settings.expiresAt} does not look like when tokens expire; nothing was deleted.`,
    {
      hint: `Set tokens.expiresAt in jobsmith.config.ts to the column that holds when a token expires, or clear the values that mean something else (0 or 1 for "never" should be NULL: rows with NULL are never purged).`,
    },
  );
}

async function countExpired(knex: Knex, table: TokenTable, expired: Knex.Raw): Promise<number> {
  const row = await knex(table.table).where(expired).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/**
 * SQLite: batches walk the rowid upwards, so each finds its rows where the last one stopped
 * instead of scanning the kept rows again. Returns a function that deletes the next batch.
 */
function sqliteBatches(
  knex: Knex,
  table: TokenTable,
  expired: Knex.Raw,
  batch: number,
): () => Promise<number> {
  // Rowids are whole numbers; none is below this (SQLite starts at 1, negatives are rare).
  let after = Number.MIN_SAFE_INTEGER;
  return async () => {
    for (;;) {
      const rows: Array<{ upto: number | null; n: number }> = await knex.raw(
        `select max(id) as upto, count(*) as n from (
           select rowid as id from ?? where rowid > ? and ? order by rowid limit ?)`,
        [table.table, after, expired, batch],
      );
      const { upto, n } = rows[0]!;
      if (n === 0 || upto === null) return 0;
      const from = after;
      after = upto;
      const { changes } = (await knex.raw('delete from ?? where rowid > ? and rowid <= ? and ?', [
        table.table,
        from,
        upto,
        expired,
      ])) as unknown as { changes: number };
      // The app changed those rows in between (renewed or deleted them): on to the next range.
      // Each round moves `after` up, so this ends.
      if (changes > 0) return changes;
    }
  };
}

/**
 * PostgreSQL: each batch deletes the rows a `limit` subquery picks, by primary key (or ctid).
 * The condition is checked again on the DELETE itself, so a token the app renewed meanwhile
 * stays.
 */
function postgresBatches(
  knex: Knex,
  table: TokenTable,
  expired: Knex.Raw,
  batch: number,
): () => Promise<number> {
  const t = table.table;
  const statement = (): Knex.Raw => {
    if (table.key === 'ctid') {
      return knex.raw(
        'delete from ?? where ctid = any(array(select ctid from ?? where ? limit ?)) and ?',
        [t, t, expired, batch, expired],
      );
    }
    const columns = (table.key as { columns: string[] }).columns;
    const list = columns.map(() => '??').join(', ');
    return knex.raw(
      `delete from ?? where (${list}) in (select ${list} from ?? where ? limit ?) and ?`,
      [t, ...columns, ...columns, t, expired, batch, expired],
    );
  };
  return async () => {
    const result = (await statement()) as unknown as { rowCount: number | null };
    return result.rowCount ?? 0;
  };
}
