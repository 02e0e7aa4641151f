import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';
import { ConfigError, SchemaError } from '../errors.js';
import { dirname } from 'node:path';
import { fileProblem, touchPrivateFile } from '../util/files.js';
import type { Database } from './connection.js';
import { requireNative } from '../util/native-require.js';

/** Serves our static list to knex's migrator, so no folder is scanned at run time. */
const source: Knex.MigrationSource<(typeof migrations)[number]> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

const CONFIG: Knex.MigratorConfig = { migrationSource: source, tableName: 'jobsmith_migrations' };

/** Arbitrary but fixed key for pg_advisory_lock: "jobsmith" in ASCII. */
const PG_LOCK_KEY = 0x6a6f6273;

/** How long a process waits for another one's migration before giving up. */
const LOCK_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` while no other process migrates the same database, so that two `run migrate`
 * started at once queue up instead of racing. knex's own lock is not enough: it creates its
 * bookkeeping tables with check-then-insert, and two processes on a fresh SQLite file could
 * insert two lock rows, after which every later migrate failed "Migration table is already
 * locked".
 * PostgreSQL: a session advisory lock, taken before knex touches anything.
 * SQLite: an exclusive lock on a companion file (`<database>.migrate-lock`); a lock on the
 * database itself would block our own migration queries. The OS drops both kinds of lock when
 * a process dies, so a crashed migrate never blocks the next one.
 */
async function exclusively<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  const locked = async () => {
    await releaseStaleKnexLock(db);
    return fn();
  };
  if (db.dialect === 'pgsql') {
    const client = db.knex.client as Knex.Client;
    const conn = await client.acquireConnection();
    try {
      await db.knex.raw('select pg_advisory_lock(?)', [PG_LOCK_KEY]).connection(conn);
      try {
        return await locked();
      } finally {
        await db.knex.raw('select pg_advisory_unlock(?)', [PG_LOCK_KEY]).connection(conn);
      }
    } finally {
      await client.releaseConnection(conn);
    }
  }
  const Sqlite = requireNative<typeof import('better-sqlite3')>('better-sqlite3');
  const lockFile = `${db.describe}.migrate-lock`;
  // Owner-only, like the database beside it (src/util/files.ts).
  try {
    touchPrivateFile(lockFile);
  } catch (error) {
    throw new ConfigError(
      `Cannot create ${lockFile} beside the SQLite database (DB_DATABASE): ${fileProblem(error)}.`,
      {
        hint: `Make ${dirname(lockFile)} writable by the user that runs jobsmith: SQLite also writes its -wal and -shm files there.`,
        cause: error,
      },
    );
  }
  // timeout 0: wait here, asynchronously, rather than in a busy loop that blocks the process.
  const lock = new Sqlite(lockFile, { timeout: 0 });
  try {
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        lock.exec('BEGIN EXCLUSIVE');
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        if (Date.now() > deadline) {
          throw new SchemaError(
            `Another process has been migrating ${db.describe} for over ${LOCK_TIMEOUT_MS / 1000}s.`,
            // The lock dies with its process, so a stuck one is still running: no file to delete.
            { hint: 'Wait for the other migrate to finish (or stop it), then run this again.' },
          );
        }
        await sleep(25 + Math.random() * 50);
      }
    }
    try {
      return await locked();
    } finally {
      lock.exec('ROLLBACK');
    }
  } finally {
    lock.close();
  }
}

/**
 * Resets knex's lock row when it says "locked" (a migrate that crashed half-way) or when
 * there is not exactly one row. Only called while we hold the exclusive lock, so no other
 * migrate can be running.
 */
async function releaseStaleKnexLock(db: Database): Promise<void> {
  const table = `${CONFIG.tableName}_lock`;
  if (!(await db.knex.schema.hasTable(table))) return;
  const rows: Array<{ is_locked: number | string }> = await db.knex(table).select('is_locked');
  if (rows.length === 1 && Number(rows[0]!.is_locked) === 0) return;
  await db.knex.migrate.forceFreeMigrationsLock(CONFIG);
}

export interface MigrationStatus {
  name: string;
  applied: boolean;
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Database): Promise<string[]> {
  return exclusively(db, async () => {
    const [, applied] = (await db.knex.migrate.latest(CONFIG)) as [number, string[]];
    return applied;
  });
}

/** Lists every migration with whether it is applied. */
export async function migrationStatus(db: Database): Promise<MigrationStatus[]> {
  return exclusively(db, async () => {
    const [completed] = (await db.knex.migrate.list(CONFIG)) as [Array<{ name: string }>, unknown];
    const done = new Set(completed.map((c) => c.name));
    return migrations.map((m) => ({ name: m.name, applied: done.has(m.name) }));
  });
}

/** Rolls back the last `steps` migrations (one by one, newest first); returns their names. */
export async function rollback(db: Database, steps: number): Promise<string[]> {
  return exclusively(db, async () => {
    const undone: string[] = [];
    for (let i = 0; i < steps; i++) {
      const [, names] = (await db.knex.migrate.down(CONFIG)) as [number, string[]];
      if (names.length === 0) break;
      undone.push(...names);
    }
    return undone;
  });
}

/**
 * Makes sure the schema is current before a command uses it: SQLite always migrates itself;
 * PostgreSQL migrates unless MIGRATE_ON_START=false, and then says which command to run.
 */
export async function ensureSchema(db: Database, migrateOnStart: boolean): Promise<void> {
  const status = await migrationStatus(db);
  const pending = status.filter((m) => !m.applied);
  if (pending.length === 0) return;
  if (db.dialect === 'sqlite' || migrateOnStart) {
    await migrateLatest(db);
    return;
  }
  throw new SchemaError(
    `The database schema is not up to date: ${pending.length} migration(s) pending (${pending.map((m) => m.name).join(', ')}).`,
    { hint: 'Run `run migrate`, or unset MIGRATE_ON_START=false to migrate on start.' },
  );
}
