import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Knex } from 'knex';
import type { Env } from '../config/env.js';
import { ConfigError, ConnectionError } from '../errors.js';
import { maskUrl } from '../logging/redact.js';
import { fileProblem, makePrivateFolder, touchPrivateFile } from '../util/files.js';
import { requireNative } from '../util/native-require.js';
import { pgConnection, tlsFailure } from './pg-url.js';

export type Dialect = 'sqlite' | 'pgsql';

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** Where the data lives, for messages: a file path or a masked URL. */
  describe: string;
}

/** knex prints connection failures to the console itself; we report them once, our way. */
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

/** How long SQLite waits on a lock held by another process before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Switches a connection to WAL. On a fresh file, two processes doing this at once can get
 * SQLITE_BUSY straight away: the switch needs an exclusive lock and SQLite does not always
 * call the busy handler for it. So we retry for up to the busy timeout, sleeping briefly
 * (the connection is being created, nothing else in this process waits on it).
 */
function enableWal(conn: import('better-sqlite3').Database): void {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      if (conn.pragma('journal_mode', { simple: true }) === 'wal') return;
      conn.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 10 + Math.random() * 20);
    }
  }
}

/**
 * Creates the SQLite file and its folder if they are missing, owner-only (0600 in a 0700
 * folder): SQLite gives its `-wal` and `-shm` files the mode of the database file, so they
 * are private too. An existing file keeps its mode.
 *
 * @throws ConfigError naming DB_DATABASE, the path, why and what to do, when it cannot.
 */
export function createSqliteFile(filename: string, setting = 'DB_DATABASE'): void {
  if (existsSync(filename)) return;
  try {
    makePrivateFolder(dirname(filename));
    touchPrivateFile(filename);
  } catch (error) {
    throw new ConfigError(
      `Cannot create the SQLite database ${filename} (${setting}): ${fileProblem(error)}.`,
      {
        hint: `Set ${setting} to a file in a writable folder, or let the user that runs jobsmith write ${dirname(filename)}.`,
        cause: error,
      },
    );
  }
}

/**
 * knex over one better-sqlite3 connection to `filename` (better-sqlite3 is synchronous: a second
 * connection in the same process would only contend for the same file lock), with a busy
 * timeout, then `configure` (pragmas) on the connection. Connects on the first query.
 */
export function sqliteKnex(
  filename: string,
  configure: (conn: import('better-sqlite3').Database) => void = () => {},
): Knex {
  const knexFactory = requireNative<typeof import('knex').knex>('knex');
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    log: QUIET,
    pool: {
      min: 1,
      max: 1,
      afterCreate(
        conn: import('better-sqlite3').Database,
        done: (err: Error | null, c: unknown) => void,
      ) {
        try {
          conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          configure(conn);
          done(null, conn);
        } catch (error) {
          done(error as Error, conn);
        }
      },
    },
  });
}

/** Opens (lazily: knex connects on first query) the SQL storage the environment names. */
export async function openDatabase(env: Env, cwd: string): Promise<Database> {
  const knexFactory = requireNative<typeof import('knex').knex>('knex');
  if (env.DB_CONNECTION === 'sqlite') {
    const filename = resolve(cwd, env.DB_DATABASE);
    createSqliteFile(filename);
    const knex = sqliteKnex(filename, (conn) => {
      enableWal(conn);
      conn.pragma('foreign_keys = ON');
      // WAL with NORMAL is durable across application crashes; only an OS crash can lose the
      // last transactions.
      conn.pragma('synchronous = NORMAL');
    });
    return { knex, dialect: 'sqlite', describe: filename };
  }
  const url = env.DATABASE_URL!;
  const knex = knexFactory({
    client: 'pg',
    connection: { ...pgConnection(url), connectionTimeoutMillis: 5000 },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10_000,
    log: QUIET,
  });
  return { knex, dialect: 'pgsql', describe: maskUrl(url) };
}

/** Runs a trivial query so an unreachable database is reported once, clearly. */
export async function checkConnection(db: Database): Promise<void> {
  try {
    await db.knex.raw('select 1');
  } catch (error) {
    throw connectionError(db, error);
  }
}

/** Maps a driver error to a message that names the host, the reason and the variable. */
export function connectionError(db: Database, error: unknown): ConnectionError {
  const err = error as NodeJS.ErrnoException & { code?: string };
  if (db.dialect === 'sqlite') {
    return new ConnectionError(
      `Cannot open SQLite database ${db.describe} (DB_DATABASE): ${err.code && err.code.startsWith('SQLITE_') ? err.message : fileProblem(error)}`,
      {
        hint: 'Check DB_DATABASE: it must name a file, in a folder the user that runs jobsmith can write.',
        cause: error,
      },
    );
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed (is DNS reachable?)',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    '28P01': 'password authentication failed',
    '28000': 'authentication rejected',
    '3D000': 'database does not exist',
  };
  const tls = tlsFailure(db.describe, error);
  const reason = tls?.reason || (err.code && reasons[err.code]) || err.message || String(error);
  return new ConnectionError(`Cannot connect to PostgreSQL at ${db.describe}: ${reason}.`, {
    hint: tls?.hint ?? 'Check DATABASE_URL and that the server is running.',
    cause: error,
  });
}
