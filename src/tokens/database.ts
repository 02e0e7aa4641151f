/*
 * The SQL database `tokens.connection` names. The tokens are the application's, so they live in
 * SQL whatever QUEUE_CONNECTION says; by default in jobsmith's own storage (DB_CONNECTION).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from '../config/env.js';
import { connectionError, openDatabase, sqliteKnex, type Database } from '../db/connection.js';
import { ConfigError, ConnectionError } from '../errors.js';
import { isPostgresUrl, type TokenSettings } from './settings.js';

export interface TokensDatabase {
  db: Database;
  /** Closes what this module opened; jobsmith's own storage is left to its owner. */
  close(): Promise<void>;
}

export interface TokensDatabaseDeps {
  env: Env;
  cwd: string;
  /** jobsmith's own SQL storage, connected (no migration needed: the table is the app's). */
  storage: () => Promise<Database>;
}

/**
 * Opens the database that holds the tokens and checks that it answers.
 *
 * @throws ConfigError when `tokens.connection` names an SQLite file that does not exist (it is
 *   never created: an empty new file would only hide a wrong path); ConnectionError, naming
 *   `tokens.connection`, when the database cannot be reached.
 */
export async function openTokensDatabase(
  settings: TokenSettings,
  deps: TokensDatabaseDeps,
): Promise<TokensDatabase> {
  const { connection } = settings;
  if (connection === undefined) return { db: await deps.storage(), close: async () => {} };
  let db: Database;
  if (isPostgresUrl(connection)) {
    db = await openDatabase(
      { ...deps.env, DB_CONNECTION: 'pgsql', DATABASE_URL: connection },
      deps.cwd,
    );
  } else {
    const filename = resolve(deps.cwd, connection);
    if (!existsSync(filename)) {
      throw new ConfigError(`tokens.connection: no SQLite database at ${filename}.`, {
        hint: 'Set tokens.connection in jobsmith.config.ts to the path of the database file that holds the tokens, or a postgres:// URL.',
      });
    }
    db = openSqlite(filename);
  }
  try {
    await db.knex.raw('select 1');
  } catch (error) {
    await db.knex.destroy().catch(() => {});
    const reason = connectionError(db, error).message.replace(' (DB_DATABASE)', '');
    throw new ConnectionError(`tokens.connection: ${reason.replace(/\.$/, '')}.`, {
      hint: 'Check tokens.connection in jobsmith.config.ts, and that the database is reachable.',
      cause: error,
    });
  }
  return { db, close: () => db.knex.destroy() };
}

/**
 * The app's own SQLite file, opened as it is: no WAL switch or other pragma that would outlive
 * us (those are the app's choices), only a busy timeout so a short write of the app waits.
 */
function openSqlite(filename: string): Database {
  const knex = sqliteKnex(filename);
  return { knex, dialect: 'sqlite', describe: filename };
}
