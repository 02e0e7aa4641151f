/*
 * The example's connection to the app's SQL database: the same one jobsmith uses (DB_CONNECTION,
 * DB_DATABASE, DATABASE_URL), through a knex of its own.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
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

/**
 * A knex on the app's SQL database. Connects on the first query. Destroy it when done.
 * @throws Error naming the variable when DB_CONNECTION is unknown or pgsql without DATABASE_URL.
 */
export function pipelineKnex(env: DbEnv, cwd: string): Knex {
  const knex = nodeRequire('knex') as typeof import('knex').knex;
  const connection = env.DB_CONNECTION || 'sqlite';
  if (connection === 'pgsql') {
    if (!env.DATABASE_URL)
      throw new Error(
        'DB_CONNECTION=pgsql needs DATABASE_URL (postgres://user@host:5432/db) for the pipeline tables.',
      );
    return knex({ client: 'pg', connection: env.DATABASE_URL, pool: { min: 0, max: 5 } });
  }
  if (connection !== 'sqlite')
    throw new Error(`DB_CONNECTION is "${connection}": the pipeline takes sqlite or pgsql.`);
  const filename = resolve(cwd, env.DB_DATABASE || 'storage/database.sqlite');
  mkdirSync(dirname(filename), { recursive: true });
  return knex({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
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
