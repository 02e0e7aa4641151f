/*
 * What `run purge:tokens` needs to know about the app's token table before it deletes anything:
 * that the table and its expiry column exist, how the column holds time, and which key a batch
 * picks its rows by. Every problem is a ConfigError naming the setting to change.
 */
import type { Database, Dialect } from '../db/connection.js';
import { ConfigError } from '../errors.js';
import type { TokenSettings } from './settings.js';

/**
 * How the expiry column holds time:
 * - `timestamptz`: PostgreSQL timestamptz.
 * - `timestamp`: PostgreSQL timestamp without time zone or date, read as UTC.
 * - `epoch`: a PostgreSQL number of unix seconds, or milliseconds from 1e11 on.
 * - `sqlite`: SQLite, per value: ISO 8601 text (zone-less is UTC) or unix seconds/milliseconds.
 */
export type ExpiryKind = 'timestamptz' | 'timestamp' | 'epoch' | 'sqlite';

export interface TokenTable {
  dialect: Dialect;
  /** As configured: `refresh_tokens` or `schema.refresh_tokens`. */
  table: string;
  column: string;
  kind: ExpiryKind;
  /** PostgreSQL type the cutoff is bound as, for `epoch` (so an index on the column is used). */
  numberType?: string;
  /**
   * How a batch names its rows: SQLite's rowid (batches walk it in order), the primary key's
   * columns, or, for a PostgreSQL table without one, the row's physical id (ctid).
   */
  key: 'rowid' | 'ctid' | { columns: string[] };
}

const TABLE_HINT =
  'Set tokens.table in jobsmith.config.ts to the table of your refresh tokens (and tokens.connection when it is in another database).';
const COLUMN_HINT =
  'Set tokens.expiresAt in jobsmith.config.ts to the column that holds when a token expires.';

const PG_TIMESTAMPS: Record<string, ExpiryKind> = {
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  date: 'timestamp',
};
/** Numbers and the type their cutoff is bound as (integers as int8: int2/int4 would overflow). */
const PG_NUMBERS: Record<string, string> = {
  int2: 'int8',
  int4: 'int8',
  int8: 'int8',
  numeric: 'numeric',
  float4: 'float8',
  float8: 'float8',
};

/**
 * Checks the table and its expiry column.
 * @throws ConfigError naming tokens.table or tokens.expiresAt, the database and the fix.
 */
export async function inspectTokenTable(
  db: Database,
  settings: TokenSettings,
): Promise<TokenTable> {
  return db.dialect === 'sqlite' ? inspectSqlite(db, settings) : inspectPostgres(db, settings);
}

function missingTable(db: Database, table: string, what = 'does not exist'): ConfigError {
  return new ConfigError(`tokens.table: table ${table} ${what} in ${db.describe}.`, {
    hint: TABLE_HINT,
  });
}

function missingColumn(db: Database, settings: TokenSettings, columns: string[]): ConfigError {
  return new ConfigError(
    `tokens.expiresAt: column ${settings.expiresAt} does not exist in table ${settings.table} of ${db.describe} (its columns: ${columns.join(', ')}).`,
    { hint: COLUMN_HINT },
  );
}

async function inspectSqlite(db: Database, settings: TokenSettings): Promise<TokenTable> {
  const [schema, name] = splitName(settings.table, 'main');
  const rows: Array<{ type: string; sql: string | null }> = await db.knex
    .raw(`select type, sql from "${schema}".sqlite_master where name = ? collate nocase`, [name])
    .catch((error: Error) => {
      // An unknown schema (`other.tokens` with no database attached as `other`).
      if (/unknown database/i.test(error.message)) return [];
      throw error;
    });
  const entry = rows.find((r) => r.type === 'table') ?? rows[0];
  if (!entry) throw missingTable(db, settings.table);
  if (entry.type !== 'table')
    throw missingTable(db, settings.table, `is a ${entry.type}, not a table,`);
  if (/\bwithout\s+rowid\b/i.test(entry.sql ?? '')) {
    throw new ConfigError(
      `tokens.table: table ${settings.table} in ${db.describe} is a WITHOUT ROWID table; purge:tokens walks a table by its rowid.`,
      { hint: TABLE_HINT },
    );
  }
  const columns: Array<{ name: string }> = await db.knex.raw(
    'select name from pragma_table_info(?, ?)',
    [name, schema],
  );
  const names = columns.map((c) => c.name);
  if (!names.some((c) => c.toLowerCase() === settings.expiresAt.toLowerCase()))
    throw missingColumn(db, settings, names);
  return {
    dialect: 'sqlite',
    table: settings.table,
    column: settings.expiresAt,
    kind: 'sqlite',
    key: 'rowid',
  };
}

async function inspectPostgres(db: Database, settings: TokenSettings): Promise<TokenTable> {
  const qualified = settings.table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
  const { rows: relations } = await db.knex.raw<{
    rows: Array<{ oid: number; relkind: string }>;
  }>('select c.oid::int8 as oid, c.relkind from pg_class c where c.oid = to_regclass(?::text)', [
    qualified,
  ]);
  const relation = relations[0];
  if (!relation) throw missingTable(db, settings.table);
  if (relation.relkind !== 'r' && relation.relkind !== 'p') {
    const kinds: Record<string, string> = { v: 'view', m: 'materialized view', f: 'foreign table' };
    throw missingTable(
      db,
      settings.table,
      `is a ${kinds[relation.relkind] ?? `relation of kind ${relation.relkind}`}, not a table,`,
    );
  }
  const { rows: columns } = await db.knex.raw<{
    rows: Array<{ name: string; type: string; typname: string }>;
  }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typname
       from pg_attribute a join pg_type t on t.oid = a.atttypid
      where a.attrelid = ? and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [relation.oid],
  );
  const column = columns.find((c) => c.name === settings.expiresAt);
  if (!column)
    throw missingColumn(
      db,
      settings,
      columns.map((c) => c.name),
    );
  const timestamp = PG_TIMESTAMPS[column.typname];
  const numberType = PG_NUMBERS[column.typname];
  if (!timestamp && !numberType) {
    throw new ConfigError(
      `tokens.expiresAt: column ${settings.expiresAt} of ${settings.table} in ${db.describe} is ${column.type}; purge:tokens reads timestamptz, timestamp, date, or a number of unix seconds or milliseconds.`,
      { hint: COLUMN_HINT },
    );
  }
  const { rows: keyColumns } = await db.knex.raw<{ rows: Array<{ name: string }> }>(
    `select a.attname as name
       from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = ? and i.indisprimary
      order by array_position(i.indkey::int2[], a.attnum)`,
    [relation.oid],
  );
  if (keyColumns.length === 0 && relation.relkind === 'p') {
    // A ctid is only unique within one partition: deleting by it could hit another's rows.
    throw new ConfigError(
      `tokens.table: partitioned table ${settings.table} in ${db.describe} has no primary key; purge:tokens deletes a partitioned table's rows by it.`,
      { hint: `Add a primary key to ${settings.table}.` },
    );
  }
  return {
    dialect: 'pgsql',
    table: settings.table,
    column: settings.expiresAt,
    kind: timestamp ?? 'epoch',
    numberType: timestamp ? undefined : numberType,
    key: keyColumns.length > 0 ? { columns: keyColumns.map((c) => c.name) } : 'ctid',
  };
}

/** `schema.name` → [schema, name]; a bare name gets `fallback` as its schema. */
function splitName(table: string, fallback: string): [string, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? [fallback, table] : [table.slice(0, dot), table.slice(dot + 1)];
}
