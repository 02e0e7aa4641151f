/*
 * The example's connection to the app's SQL database: the same one jobsmith uses (DB_CONNECTION,
 * DB_DATABASE, DATABASE_URL), through a knex of its own.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { ConfigError, ConnectionError } from 'jobsmith';
import type { Knex } from 'knex';

// Node's own require, not `import`: the config (and so this file) is loaded through jiti, whose
// hooks would transpile all of knex again on every start (seconds). jobsmith does the same
// (src/util/native-require.ts).
const nodeRequire = createRequire(import.meta.url);

/** The settings it reads; the rest of the environment is ignored. */
export interface DbEnv {
  /** 'sqlite' (default) or 'pgsql'. */
  DB_CONNECTION?: string;
  /** The SQLite file, relative to `cwd`. @defaultValue 'storage/database.sqlite' */
  DB_DATABASE?: string;
  /** postgres://... when DB_CONNECTION=pgsql. */
  DATABASE_URL?: string;
}

/** How long SQLite waits for another process's write lock, ms (as jobsmith's own connection). */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

// knex prints its pool's failures itself ("Acquire connection error" and a stack); the store
// reports them once, in plain words (connectionProblem).
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

/** Driver codes in plain words, as jobsmith's own connection says them. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  '28P01': 'password authentication failed',
  '28000': 'authentication rejected',
  '3D000': 'database does not exist',
};

/**
 * The error opening the store met, as jobsmith's ConnectionError naming the variable to check
 * (exit 1 from `run`, no stack trace) when it is the database's fault; any other error as it is.
 */
export function connectionProblem(error: unknown, env: DbEnv): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  if ((env.DB_CONNECTION || 'sqlite') === 'pgsql')
    return REASONS[code]
      ? new ConnectionError(`The pipeline cannot connect to PostgreSQL: ${REASONS[code]}.`, {
          hint: 'Check DATABASE_URL and that the server is running.',
          cause: error,
        })
      : error;
  return code.startsWith('SQLITE_') || code === 'EACCES' || code === 'EROFS'
    ? new ConnectionError(
        `The pipeline cannot open its SQLite database (DB_DATABASE): ${(error as Error).message}`,
        {
          hint: 'Check DB_DATABASE: a file in a folder the user that runs jobsmith can write.',
          cause: error,
        },
      )
    : error;
}

/**
 * A knex on the app's SQL database. Connects on the first query. Destroy it when done.
 * @throws ConfigError naming the variable when DB_CONNECTION is unknown or pgsql without
 * DATABASE_URL.
 */
export function pipelineKnex(env: DbEnv, cwd: string): Knex {
  const knex = nodeRequire('knex') as typeof import('knex').knex;
  const connection = env.DB_CONNECTION || 'sqlite';
  if (connection === 'pgsql') {
    if (!env.DATABASE_URL)
      throw new ConfigError('DB_CONNECTION=pgsql needs DATABASE_URL for the pipeline tables.', {
        hint: 'Set DATABASE_URL=postgres://user@host:5432/db in .env.',
      });
    return knex({
      client: 'pg',
      connection: env.DATABASE_URL,
      pool: { min: 0, max: 5 },
      log: quiet,
    });
  }
  if (connection !== 'sqlite')
    throw new ConfigError(`DB_CONNECTION is "${connection}": the pipeline takes sqlite or pgsql.`, {
      hint: 'Set DB_CONNECTION=sqlite or DB_CONNECTION=pgsql in .env.',
    });
  const filename = resolve(cwd, env.DB_DATABASE || 'storage/database.sqlite');
  mkdirSync(dirname(filename), { recursive: true });
  return knex({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    log: quiet,
    // better-sqlite3 is synchronous: one connection a process.
    pool: {
      min: 1,
      max: 1,
      afterCreate(
        conn: { pragma(sql: string): unknown },
        done: (err: Error | null, c: unknown) => void,
      ) {
        try {
          conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          conn.pragma('journal_mode = WAL');
          done(null, conn);
        } catch (error) {
          done(error as Error, conn);
        }
      },
    },
  });
}
