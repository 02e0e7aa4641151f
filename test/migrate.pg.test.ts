import pg from 'pg';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../migrations/index.js';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { ensureSchema } from '../src/db/migrate.js';
import { SchemaError } from '../src/errors.js';
import { maskUrl } from '../src/logging/redact.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  createTestDatabase,
  describePg,
  tempDir,
  type TempDir,
  type TestDatabase,
} from './helpers/services.js';

const names = migrations.map((m) => m.name);
const lines = (prefix: string, list: string[]) => list.map((n) => `${prefix}  ${n}\n`).join('');

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describePg('migrations on PostgreSQL', () => {
  let database: TestDatabase;
  let dir: TempDir;
  beforeEach(async () => {
    database = await createTestDatabase();
    dir = tempDir('jobsmith-migrate-pg-');
  });
  afterEach(async () => {
    dir.cleanup();
    await database.drop();
  });

  const env = () => appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: database.url });
  const run = (...args: string[]) => runCli(args, { cwd: dir.path, env: env() });
  const applied = async () =>
    (
      await query<{ name: string }>(
        database.url,
        'select name from jobsmith_migrations order by id',
      )
    ).map((r) => r.name);

  it('migrate applies every migration, then has nothing to do; no SQLite file is made', async () => {
    const first = await run('migrate');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(lines('Migrated', names));
    expect(await applied()).toEqual(names);
    const tables = await query<{ tablename: string }>(
      database.url,
      "select tablename from pg_tables where schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(['jobs', 'failed_jobs']));

    const second = await run('migrate');
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`Nothing to migrate: ${maskUrl(database.url)} is up to date.\n`);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('migrate:status shows pending then applied, as a table and as --json', async () => {
    const width = Math.max('Migration'.length, ...names.map((n) => n.length));
    const table = (state: string) =>
      `${'Migration'.padEnd(width)}  Status\n` +
      names.map((n) => `${n.padEnd(width)}  ${state}\n`).join('');
    expect((await run('migrate:status')).stdout).toBe(table('pending'));
    await run('migrate');
    const status = await run('migrate:status');
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(table('applied'));
    const json = await run('migrate:status', '--json');
    expect(JSON.parse(json.stdout)).toEqual(names.map((name) => ({ name, applied: true })));
  });

  it('migrate:rollback --force undoes the last migration and drops its tables', async () => {
    await run('migrate');
    const result = await run('migrate:rollback', '--force');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines('Rolled back', names.slice(-1)));
    expect(await applied()).toEqual(names.slice(0, -1));
    if (names.length === 1) {
      const jobs = await query(database.url, "select 1 from pg_tables where tablename = 'jobs'");
      expect(jobs).toEqual([]);
    }
  });

  it('leaves half of every jobs page free, for updates in place (fillfactor 50); rollback resets it', async () => {
    const options = async () =>
      (
        await query<{ reloptions: string[] | null }>(
          database.url,
          "select reloptions from pg_class where relname = 'jobs' and relkind = 'r'",
        )
      )[0]?.reloptions;
    await run('migrate');
    expect(await options()).toEqual(['fillfactor=50']);
    // Back to just before 0003, whatever migrations came after it.
    const after = names.slice(names.indexOf('0003_jobs_fillfactor'));
    expect((await run('migrate:rollback', '--step', String(after.length), '--force')).stdout).toBe(
      lines('Rolled back', [...after].reverse()),
    );
    expect(await options()).toBeNull();
  });

  it('two concurrent `run migrate` on a fresh database both exit 0 and apply each migration once', async () => {
    const [a, b] = await Promise.all([run('migrate'), run('migrate')]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const counts = await query<{ name: string; n: string }>(
      database.url,
      'select name, count(*) as n from jobsmith_migrations group by name order by name',
    );
    expect(counts).toEqual(names.map((name) => ({ name, n: '1' })));
    expect([a.stdout, b.stdout].sort()).toEqual(
      [
        lines('Migrated', names),
        `Nothing to migrate: ${maskUrl(database.url)} is up to date.\n`,
      ].sort(),
    );
    const locks = await query(database.url, 'select is_locked from jobsmith_migrations_lock');
    expect(locks).toEqual([{ is_locked: 0 }]);
  });

  describe('a command that needs the schema (queue:dispatch)', () => {
    const dispatch = (extra: Record<string, string>) => {
      writeFileSync(
        path.join(dir.path, 'jobsmith.config.ts'),
        "import { defineConfig, defineJob } from 'jobsmith';\n" +
          "export const job = defineJob({ name: 'digest.send', async handle() {} });\n" +
          'export default defineConfig({ jobs: [job] });\n',
      );
      return runCli(['queue:dispatch', 'digest.send', '--payload', '{}'], {
        cwd: dir.path,
        env: { ...env(), ...extra },
      });
    };

    it('with MIGRATE_ON_START=false on an unmigrated database, says to run `run migrate`; exit 1', async () => {
      const result = await dispatch({ MIGRATE_ON_START: 'false' });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `Error: The database schema is not up to date: ${names.length} migration(s) pending (${names.join(', ')}).\n` +
          'Run `run migrate`, or unset MIGRATE_ON_START=false to migrate on start.\n',
      );
      expect(await query(database.url, "select 1 from pg_tables where tablename = 'jobs'")).toEqual(
        [],
      );
    });

    it('by default, migrates the database first', async () => {
      const result = await dispatch({});
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(await applied()).toEqual(names);
    });
  });

  // The same rule at the level of ensureSchema, which App.db() runs for every such command.
  describe('ensureSchema', () => {
    let db: Database | undefined;
    afterEach(async () => {
      await db?.knex.destroy();
      db = undefined;
    });
    const open = async (migrateOnStart: string) => {
      db = await openDatabase(
        parseEnv({
          DB_CONNECTION: 'pgsql',
          DATABASE_URL: database.url,
          MIGRATE_ON_START: migrateOnStart,
        }),
        dir.path,
      );
      return db;
    };

    it('with MIGRATE_ON_START=false on an unmigrated database, says to run `run migrate`', async () => {
      const opened = await open('false');
      const error = await ensureSchema(opened, false).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaError);
      expect((error as SchemaError).message).toBe(
        `The database schema is not up to date: ${names.length} migration(s) pending (${names.join(', ')}).`,
      );
      expect((error as SchemaError).hint).toBe(
        'Run `run migrate`, or unset MIGRATE_ON_START=false to migrate on start.',
      );
      expect((error as SchemaError).exitCode).toBe(1);
      expect(await query(database.url, "select 1 from pg_tables where tablename = 'jobs'")).toEqual(
        [],
      );
    });

    it('with MIGRATE_ON_START=false on a migrated database, lets the command run', async () => {
      await run('migrate');
      await expect(ensureSchema(await open('false'), false)).resolves.toBeUndefined();
    });

    it('by default, migrates the database', async () => {
      await ensureSchema(await open('true'), true);
      expect(await applied()).toEqual(names);
    });
  });
});
