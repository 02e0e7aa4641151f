import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { migrations } from '../../migrations/index.js';
import type { App } from '../cli/app.js';
import type { Database } from '../db/connection.js';
import { JobsmithError } from '../errors.js';
import { fail, ok, skip, type CheckResult } from './check.js';
import { ProbeFailure, probePostgres, probeSqlite, type PostgresRights } from './storage-probe.js';
import { nearestExisting, probeFolder, writeFailure } from './write-probe.js';

/* The Database and Migrations checks of `run doctor`. Each returns a result and never throws. */

/** What the Database check found, for the Migrations check. */
export interface Storage {
  /** The open database, when it exists and answers. */
  db?: Database;
  /** SQLite: the file does not exist yet; the first command creates it and migrates it. */
  fresh?: boolean;
  /** A write in a rolled-back transaction went through. */
  writable: boolean;
  /** PostgreSQL: what the role may do. */
  rights?: PostgresRights;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const NAME = 'Database';

export async function checkDatabase(app: App): Promise<{ result: CheckResult; storage: Storage }> {
  return app.env.DB_CONNECTION === 'sqlite' ? checkSqlite(app) : checkPostgres(app);
}

async function checkSqlite(app: App): Promise<{ result: CheckResult; storage: Storage }> {
  const file = resolve(app.cwd, app.env.DB_DATABASE);
  const folder = dirname(file);
  const makeWritable = `Make ${file}, its -wal and -shm files and ${folder} writable by the user that runs jobsmith, on a read-write file system, or set DB_DATABASE to another file.`;
  if (!existsSync(file)) {
    // Opening would create it: say what the first command will do instead of doing it.
    const existing = nearestExisting(folder);
    try {
      probeFolder(existing);
    } catch (error) {
      return {
        result: fail(
          NAME,
          `SQLite ${file} does not exist and cannot be created: ${existing}: ${writeFailure(error)}`,
          `Make ${existing} writable by the user that runs jobsmith, or set DB_DATABASE to a file in a writable folder.`,
        ),
        storage: { writable: false },
      };
    }
    return {
      result: ok(NAME, `SQLite ${file} does not exist yet; the first command creates it`),
      storage: { fresh: true, writable: true },
    };
  }
  let db: Database;
  try {
    db = await app.db({ migrate: false });
  } catch (error) {
    return {
      result: fail(NAME, message(error), `Check DB_DATABASE (${file}). ${makeWritable}`),
      storage: { writable: false },
    };
  }
  try {
    await probeSqlite(db.knex);
  } catch (error) {
    const failure =
      error instanceof ProbeFailure ? error : new ProbeFailure('failed', message(error));
    const results: Record<ProbeFailure['kind'], CheckResult> = {
      corrupt: fail(
        NAME,
        `SQLite ${file} is corrupt: ${failure.message}`,
        `Stop the workers, then restore ${file} (DB_DATABASE) from a backup; \`sqlite3 ${file} .recover\` saves what is still readable.`,
      ),
      'read-only': fail(NAME, `SQLite ${file} cannot be written: ${failure.message}`, makeWritable),
      busy: fail(
        NAME,
        `SQLite ${file} stayed locked by another process: ${failure.message}`,
        `Find the process that holds the lock (fuser ${file}) and stop it.`,
      ),
      failed: fail(NAME, `SQLite ${file}: ${failure.message}`, `Check DB_DATABASE (${file}).`),
    };
    return { result: results[failure.kind], storage: { db, writable: false } };
  }
  return {
    result: ok(NAME, `SQLite ${file} answers, passes quick_check and takes writes`),
    storage: { db, writable: true },
  };
}

async function checkPostgres(app: App): Promise<{ result: CheckResult; storage: Storage }> {
  let db: Database;
  try {
    db = await app.db({ migrate: false });
  } catch (error) {
    const hint = (error instanceof JobsmithError && error.hint) || 'Check DATABASE_URL.';
    return { result: fail(NAME, message(error), hint), storage: { writable: false } };
  }
  try {
    const { rights, missing } = await probePostgres(db.knex);
    if (missing.length > 0) {
      const { role, schema } = rights;
      return {
        result: fail(
          NAME,
          `PostgreSQL ${db.describe}: role ${role} lacks ${missing.join('; ')}`,
          `As the owner of the tables: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};`,
        ),
        storage: { db, writable: false, rights },
      };
    }
    return {
      result: ok(NAME, `PostgreSQL ${db.describe} answers and takes writes (role ${rights.role})`),
      storage: { db, writable: true, rights },
    };
  } catch (error) {
    if (error instanceof ProbeFailure && error.kind === 'read-only') {
      return {
        result: fail(
          NAME,
          `PostgreSQL ${db.describe} refuses writes: ${error.message}`,
          'Point DATABASE_URL at the primary server, and let this role and database write (default_transaction_read_only = off).',
        ),
        storage: { db, writable: false },
      };
    }
    return {
      result: fail(NAME, `PostgreSQL ${db.describe}: ${message(error)}`, 'Check DATABASE_URL.'),
      storage: { db, writable: false },
    };
  }
}

export async function checkMigrations(app: App, storage: Storage): Promise<CheckResult> {
  const name = 'Migrations';
  const all = migrations.map((m) => m.name);
  if (storage.fresh) {
    return ok(name, `none applied yet: the first command applies all ${all.length}`);
  }
  const { db } = storage;
  if (!db) return skip(name, 'needs the database');
  let applied: string[];
  try {
    // Read the table, not knex's migrator: no lock taken, nothing written.
    applied = (await db.knex.schema.hasTable('jobsmith_migrations'))
      ? await db.knex('jobsmith_migrations').orderBy('id').pluck('name')
      : [];
  } catch (error) {
    return fail(name, message(error), 'Check the database, then run `run migrate:status`.');
  }
  const unknown = applied.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    return fail(
      name,
      `the database has migrations this version of jobsmith does not know: ${unknown.join(', ')} (applied by a newer version?)`,
      'Run the jobsmith version that applied them, or roll them back with that version (`run migrate:rollback`).',
    );
  }
  const pending = all.filter((n) => !applied.includes(n));
  if (pending.length === 0) return ok(name, 'all applied');
  const list = `${pending.length} pending (${pending.join(', ')})`;
  if (db.dialect === 'pgsql' && !app.env.MIGRATE_ON_START) {
    return fail(
      name,
      `${list}; MIGRATE_ON_START=false, so commands do not apply them`,
      'Run `run migrate` (or leave MIGRATE_ON_START unset so commands apply them).',
    );
  }
  if (!storage.writable) {
    return fail(
      name,
      `${list}, and the database cannot be written, so they cannot be applied`,
      'Fix the Database check above; the next command then applies them.',
    );
  }
  const rights = storage.rights;
  if (rights && !(rights.canCreate && rights.ownsSchema)) {
    const cannot = rights.canCreate
      ? 'alter the jobsmith tables (it does not own them)'
      : `create tables in schema ${rights.schema}`;
    return fail(
      name,
      `${list}, and role ${rights.role} may not ${cannot}, so commands cannot apply them`,
      `Run \`run migrate\` as the role that owns the schema (and set MIGRATE_ON_START=false for ${rights.role}), or GRANT CREATE ON SCHEMA ${rights.schema} TO ${rights.role}.`,
    );
  }
  return ok(name, `${list}: the next command that uses the database applies them`);
}
