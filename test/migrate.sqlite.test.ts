import Database from 'better-sqlite3';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../migrations/index.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
let dbFile: string;
beforeEach(() => {
  dir = tempDir('jobsmith-migrate-');
  cwd = realpathSync(dir.path);
  dbFile = path.join(cwd, 'storage', 'database.sqlite');
});
afterEach(() => dir.cleanup());

const run = (...args: string[]) => runCli(args, { cwd, env: appEnv() });
const names = migrations.map((m) => m.name);
const lines = (prefix: string, list: string[]) => list.map((n) => `${prefix}  ${n}\n`).join('');
const width = Math.max('Migration'.length, ...names.map((n) => n.length));
const statusTable = (state: string) =>
  `${'Migration'.padEnd(width)}  Status\n` +
  names.map((n) => `${n.padEnd(width)}  ${state}\n`).join('');

function tables(): string[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db
      .prepare("select name from sqlite_master where type = 'table' order by name")
      .all()
      .map((r) => (r as { name: string }).name);
  } finally {
    db.close();
  }
}

function appliedNames(file = dbFile): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare('select name from jobsmith_migrations order by id')
      .all()
      .map((r) => (r as { name: string }).name);
  } finally {
    db.close();
  }
}

describe('run migrate on SQLite', () => {
  it('creates storage/database.sqlite under the cwd and applies every migration', async () => {
    expect(existsSync(dbFile)).toBe(false);
    const result = await run('migrate');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines('Migrated', names));
    expect(existsSync(dbFile)).toBe(true);
    expect(tables()).toEqual(
      expect.arrayContaining(['jobs', 'failed_jobs', 'jobsmith_migrations']),
    );
    expect(appliedNames()).toEqual(names);
  });

  it('says there is nothing to migrate the second time', async () => {
    await run('migrate');
    const result = await run('migrate');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Nothing to migrate: ${dbFile} is up to date.\n`);
    expect(appliedNames()).toEqual(names);
  });

  it('uses DB_DATABASE, relative to the cwd', async () => {
    const result = await runCli(['migrate'], { cwd, env: appEnv({ DB_DATABASE: 'data/app.db' }) });
    expect(result.code).toBe(0);
    expect(existsSync(path.join(cwd, 'data', 'app.db'))).toBe(true);
    expect(existsSync(dbFile)).toBe(false);
  });

  it('applies each migration once when two processes migrate a fresh file at once', async () => {
    const [a, b] = await Promise.all([run('migrate'), run('migrate')]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    expect(appliedNames()).toEqual(names);
    // One process applied them; the other found nothing left to do.
    const outputs = [a.stdout, b.stdout].sort();
    expect(outputs).toEqual(
      [lines('Migrated', names), `Nothing to migrate: ${dbFile} is up to date.\n`].sort(),
    );
  });

  it('applies each migration once when three processes race on a fresh file, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      const sub = path.join(cwd, `round-${round}`);
      mkdirSync(sub);
      const results = await Promise.all(
        [1, 2, 3].map(() => runCli(['migrate'], { cwd: sub, env: appEnv() })),
      );
      expect(results.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
        [0, ''],
      ]);
      expect(appliedNames(path.join(sub, 'storage', 'database.sqlite'))).toEqual(names);
    }
  });

  it('recovers from a lock left behind by a migrate that crashed', async () => {
    await run('migrate');
    await run('migrate:rollback', '--force');
    // What a crash half-way through leaves, plus the duplicate row an older race could insert.
    const db = new Database(dbFile);
    db.exec('update jobsmith_migrations_lock set is_locked = 1');
    db.exec('insert into jobsmith_migrations_lock (is_locked) values (0)');
    db.close();
    const result = await run('migrate');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(lines('Migrated', names.slice(-1)));
    const after = new Database(dbFile, { readonly: true });
    expect(after.prepare('select is_locked from jobsmith_migrations_lock').all()).toEqual([
      { is_locked: 0 },
    ]);
    after.close();
  });
});

describe('run migrate:status on SQLite', () => {
  it('lists every migration as pending before migrate, applied after', async () => {
    const before = await run('migrate:status');
    expect(before.code).toBe(0);
    expect(before.stdout).toBe(statusTable('pending'));
    await run('migrate');
    const after = await run('migrate:status');
    expect(after.stdout).toBe(statusTable('applied'));
  });

  it('prints JSON with --json', async () => {
    await run('migrate');
    const result = await run('migrate:status', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(names.map((name) => ({ name, applied: true })));
  });
});

describe('run migrate:rollback on SQLite', () => {
  it('undoes the last migration with --force and drops its tables', async () => {
    await run('migrate');
    const result = await run('migrate:rollback', '--force');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines('Rolled back', names.slice(-1)));
    expect(appliedNames()).toEqual(names.slice(0, -1));
    if (names.length === 1) expect(tables()).not.toContain('jobs');
    const status = await run('migrate:status', '--json');
    expect(JSON.parse(status.stdout).at(-1)).toEqual({ name: names.at(-1), applied: false });
  });

  it('undoes --step N migrations, newest first, and says when nothing is left', async () => {
    await run('migrate');
    const result = await run('migrate:rollback', '--step', String(names.length + 5), '--force');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines('Rolled back', [...names].reverse()));
    const again = await run('migrate:rollback', '--force');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Nothing to roll back.\n');
  });

  it('refuses without --force when no terminal is attached; exit 2, nothing dropped', async () => {
    await run('migrate');
    const result = await run('migrate:rollback');
    expect(result.code).toBe(2);
    expect(result.timedOut).toBe(false);
    expect(result.stderr).toBe(
      `Error: Roll back 1 migration(s) on ${dbFile}? Their tables and data are dropped. ` +
        'Refusing without --force when no terminal is attached.\nPass --force to confirm.\n',
    );
    expect(appliedNames()).toEqual(names);
  });

  it('rejects --step 0, naming the flag; exit 2', async () => {
    const result = await run('migrate:rollback', '--step', '0', '--force');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Error: --step must be a whole number ≥ 1, got "0".\n');
  });
});
