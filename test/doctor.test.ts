import BetterSqlite3 from 'better-sqlite3';
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../migrations/index.js';
import { JOBSMITH_TABLES, MIGRATION_TABLES } from '../src/doctor/tables.js';
import { check, EXAMPLE_CONF, rows, useDoctorApp } from './doctor.fixture.js';
import { makeReadOnly } from './helpers/immutable.js';

const app = useDoctorApp();
const ALL = migrations.map((m) => m.name);
const dbFile = () => path.join(app.cwd, 'storage', 'database.sqlite');

describe('run doctor', () => {
  it('catches a job timeout longer than the lease: exit 1, names the job and the fix', async () => {
    app.writeConfig({ 'quick.job': { timeout: 10 }, 'report.build': { timeout: 120 } });
    expect((await app.run(['migrate'])).code).toBe(0);
    const result = await app.run(['doctor', '--supervisor', EXAMPLE_CONF]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(rows(result.stdout)).toContain(
      '✗ | Job timeouts | timeout longer than QUEUE_LEASE 60s: report.build (120s) | ' +
        'Set QUEUE_LEASE above the longest timeout (e.g. QUEUE_LEASE=180s), or lower the timeout of report.build.',
    );
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('1 check(s) failed: Job timeouts.');
    // The same app passes once the lease covers the timeout.
    const fixed = await app.run(['doctor', '--supervisor', EXAMPLE_CONF], { QUEUE_LEASE: '180s' });
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(rows(fixed.stdout)).toContain(
      '✓ | Job timeouts | no timeout (longest 120s) is longer than QUEUE_LEASE 180s',
    );
  });

  it('passes a healthy app and reads the example supervisor conf (--json)', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    const { result, report } = await app.doctor();
    expect(result.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['Configuration', 'ok'],
      ['Database', 'ok'],
      ['Migrations', 'ok'],
      ['Redis', 'skip'],
      ['Log folder', 'ok'],
      ['Job timeouts', 'ok'],
      ['Encryption', 'skip'],
      ['Supervisor', 'ok'],
    ]);
    expect(check(report, 'Configuration').detail).toBe(
      'jobsmith.config.ts: 1 job(s), 0 schedule entries',
    );
    expect(check(report, 'Database').detail).toBe(
      `SQLite ${dbFile()} answers, passes quick_check and takes writes`,
    );
    expect(check(report, 'Migrations').detail).toBe('all applied');
    expect(check(report, 'Redis').detail).toBe(
      "not used (QUEUE_CONNECTION=database, and no job or schedule entry names connection 'redis')",
    );
    expect(check(report, 'Supervisor').detail).toBe(
      `${EXAMPLE_CONF}: jobsmith-worker stopwaitsecs=45 > --grace 30s, jobsmith-high stopwaitsecs=45 > --grace 30s, ` +
        'jobsmith-scheduler stopwaitsecs=75 > --grace 60s',
    );
  });

  it('on a fresh app, says the first command creates and migrates the database, and creates nothing', async () => {
    app.writeConfig({ 'quick.job': {} });
    const { result, report } = await app.doctor();
    expect(result.code, JSON.stringify(report)).toBe(0);
    expect(check(report, 'Database')).toEqual({
      check: 'Database',
      status: 'ok',
      detail: `SQLite ${dbFile()} does not exist yet; the first command creates it`,
      fix: null,
    });
    expect(check(report, 'Migrations')).toEqual({
      check: 'Migrations',
      status: 'ok',
      detail: `none applied yet: the first command applies all ${ALL.length}`,
      fix: null,
    });
    expect(existsSync(path.join(app.cwd, 'storage'))).toBe(false);
  });

  it('says pending migrations on SQLite are applied by the next command, not a failure', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    expect((await app.run(['migrate:rollback', '--force'])).code).toBe(0);
    const { result, report } = await app.doctor();
    expect(result.code).toBe(0);
    expect(check(report, 'Migrations')).toMatchObject({
      status: 'ok',
      detail: `1 pending (${ALL.at(-1)}): the next command that uses the database applies them`,
    });
  });

  it('fails a migration the database has and this version does not know', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    const db = new BetterSqlite3(dbFile());
    db.prepare(
      "insert into jobsmith_migrations (name, batch, migration_time) values ('9999_from_the_future', 9, 0)",
    ).run();
    db.close();
    const { result, report } = await app.doctor();
    expect(result.code).toBe(1);
    expect(check(report, 'Migrations')).toEqual({
      check: 'Migrations',
      status: 'fail',
      detail:
        'the database has migrations this version of jobsmith does not know: 9999_from_the_future (applied by a newer version?)',
      fix: 'Run the jobsmith version that applied them, or roll them back with that version (`run migrate:rollback`).',
    });
  });

  it('fails a read-only SQLite file, naming DB_DATABASE and the file', async (ctx) => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    const undo = makeReadOnly(ctx, [dbFile()]);
    try {
      const { result, report } = await app.doctor();
      expect(result.code).toBe(1);
      const folder = path.dirname(dbFile());
      expect(check(report, 'Database')).toEqual({
        check: 'Database',
        status: 'fail',
        detail: `SQLite ${dbFile()} cannot be written: attempt to write a readonly database (SQLITE_READONLY)`,
        fix: `Make ${dbFile()}, its -wal and -shm files and ${folder} writable by the user that runs jobsmith, on a read-write file system, or set DB_DATABASE to another file.`,
      });
      expect(check(report, 'Migrations').status).toBe('ok');
    } finally {
      undo();
    }
  });

  it('fails a folder where the SQLite file cannot be created', async (ctx) => {
    app.writeConfig({ 'quick.job': {} });
    const folder = path.join(app.cwd, 'storage');
    mkdirSync(folder);
    const undo = makeReadOnly(ctx, [folder]);
    try {
      const { result, report } = await app.doctor([], { LOG_FILE: '../app.log' });
      expect(result.code).toBe(1);
      const reason =
        process.getuid?.() === 0 ? 'operation not permitted (EPERM)' : 'permission denied (EACCES)';
      expect(check(report, 'Database')).toEqual({
        check: 'Database',
        status: 'fail',
        detail: `SQLite ${dbFile()} does not exist and cannot be created: ${folder}: ${reason}`,
        fix: `Make ${folder} writable by the user that runs jobsmith, or set DB_DATABASE to a file in a writable folder.`,
      });
      expect(check(report, 'Migrations').status).toBe('skip');
    } finally {
      undo();
    }
  });

  it('fails an SQLite file with corrupt pages (quick_check)', async () => {
    app.writeConfig({ 'quick.job': {} });
    const lines = Array.from({ length: 300 }, (_, n) =>
      JSON.stringify({ n, pad: 'x'.repeat(200) }),
    );
    const bulk = await app.run(['queue:dispatch', 'quick.job'], {}, `${lines.join('\n')}\n`);
    expect(bulk.code, bulk.stderr).toBe(0);
    // Overwrite four pages near the end of a real database file (not the header page).
    const pageSize = 4096;
    const pages = Math.floor(statSync(dbFile()).size / pageSize);
    expect(pages).toBeGreaterThan(10);
    const fd = openSync(dbFile(), 'r+');
    for (let page = pages - 5; page < pages - 1; page++) {
      writeSync(fd, Buffer.alloc(pageSize, 0xab), 0, pageSize, page * pageSize);
    }
    closeSync(fd);
    const { result, report } = await app.doctor();
    expect(result.code).toBe(1);
    const database = check(report, 'Database');
    expect(database.status).toBe('fail');
    expect(database.detail).toMatch(new RegExp(`^SQLite ${dbFile()} is corrupt: \\S.+`));
    expect(database.fix).toBe(
      `Stop the workers, then restore ${dbFile()} (DB_DATABASE) from a backup; ` +
        `\`sqlite3 ${dbFile()} .recover\` saves what is still readable.`,
    );
  });

  it('knows every table the migrations create (the PostgreSQL rights check needs the list)', async () => {
    expect((await app.run(['migrate'])).code).toBe(0);
    const db = new BetterSqlite3(dbFile(), { readonly: true });
    const tables = db
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
      .pluck()
      .all();
    db.close();
    expect(new Set(tables)).toEqual(new Set([...JOBSMITH_TABLES, ...MIGRATION_TABLES]));
  });

  it('fails a log file that cannot be written', async (ctx) => {
    app.writeConfig({ 'quick.job': {} });
    const log = path.join(app.cwd, 'app.log');
    writeFileSync(log, '');
    const undo = makeReadOnly(ctx, [log]);
    try {
      const { report } = await app.doctor([], { LOG_FILE: 'app.log' });
      const reason =
        process.getuid?.() === 0 ? 'operation not permitted (EPERM)' : 'permission denied (EACCES)';
      expect(check(report, 'Log folder')).toEqual({
        check: 'Log folder',
        status: 'fail',
        detail: `${log}: ${reason}`,
        fix: `Make ${log} writable by the user that runs the workers (chown USER ${log}), or set LOG_FILE.`,
      });
    } finally {
      undo();
    }
  });

  it('fails the log folder check when LOG_FILE is under a file', async () => {
    app.writeConfig({ 'quick.job': {} });
    writeFileSync(path.join(app.cwd, 'not-a-folder'), '');
    const { report } = await app.doctor([], { LOG_FILE: 'not-a-folder/app.log' });
    expect(check(report, 'Log folder')).toMatchObject({
      status: 'fail',
      detail: `${path.join(app.cwd, 'not-a-folder')}: not a folder (ENOTDIR)`,
    });
  });

  it('flags supervisor programs that would be killed mid-drain or stay down after exit 0', async () => {
    app.writeConfig({ 'quick.job': {} });
    const conf = path.join(app.cwd, 'workers.conf');
    writeFileSync(
      conf,
      '[program:mail]\ncommand=/srv/app/node_modules/.bin/run queue:work --queue=mail --grace 60s ; drains\n' +
        'stopwaitsecs=60\nautorestart=true\n\n' +
        '[program:other]\ncommand=/usr/bin/true\n\n' +
        '[program:defaults]\ncommand=run queue:work\n\n' +
        '[program:killed]\ncommand=run queue:work\nstopsignal=KILL\nstopwaitsecs=40\nautorestart=true\n',
    );
    const { report } = await app.doctor(['--supervisor', conf]);
    expect(check(report, 'Supervisor')).toEqual({
      check: 'Supervisor',
      status: 'fail',
      detail:
        `${conf}: mail: stopwaitsecs=60 is not longer than --grace 60s, so supervisor kills it mid-drain; ` +
        'defaults: autorestart=unexpected leaves it down after it exits 0 (queue:restart, --max-jobs, --max-time); ' +
        'defaults: stopwaitsecs=10 is not longer than --grace 30s, so supervisor kills it mid-drain; ' +
        'killed: stopsignal=KILL does not let it drain',
      fix:
        `In ${conf}: set stopwaitsecs=70 in [program:mail]; set autorestart=true in [program:defaults]; ` +
        'set stopwaitsecs=40 in [program:defaults]; set stopsignal=TERM in [program:killed].',
    });
  });

  it('reports an invalid environment and skips the checks that need it', async () => {
    const { result, report } = await app.doctor([], { DB_CONNECTION: 'mysql' });
    expect(result.code).toBe(1);
    expect(report.checks[0]).toEqual({
      check: 'Configuration',
      status: 'fail',
      detail:
        'Invalid configuration: DB_CONNECTION="mysql" is not valid; expected one of: sqlite, pgsql.',
      fix: 'Fix the variable in your environment or in .env.',
    });
    expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
  });

  it('does not accept a QUEUE_LEASE no timer can wait: it shows the maximum', async () => {
    const { result, report } = await app.doctor([], { QUEUE_LEASE: '90d' });
    expect(result.code).toBe(1);
    expect(report.checks[0]).toEqual({
      check: 'Configuration',
      status: 'fail',
      detail:
        'Invalid configuration: QUEUE_LEASE="90d" is not valid; expected a duration at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
      fix: 'Fix the variable in your environment or in .env.',
    });
  });

  it('does not accept a job timeout no timer can wait: it names the job and the maximum', async () => {
    app.writeConfig({ 'month.job': { timeout: 30 * 86400 } });
    const { result, report } = await app.doctor();
    expect(result.code).toBe(1);
    expect(check(report, 'Configuration')).toMatchObject({ status: 'fail' });
    expect(check(report, 'Configuration').detail).toMatch(
      /: Job month\.job: timeout must be a positive number of seconds, at most 2147483647ms \(about 24\.8 days\), the longest a timer can wait; got 2592000\.$/,
    );
    expect(check(report, 'Job timeouts')).toMatchObject({ status: 'skip' });
  });

  it('checks APP_KEY when a job is encrypted: fails naming it and key:generate, else shows key ids', async () => {
    app.writeConfig({ 'card.charge': { encrypted: true } });
    expect((await app.run(['migrate'])).code).toBe(0);
    const missing = await app.doctor();
    expect(missing.result.code).toBe(1);
    expect(check(missing.report, 'Encryption')).toEqual({
      check: 'Encryption',
      status: 'fail',
      detail: 'APP_KEY is not set (encrypted jobs: card.charge)',
      fix: 'Run `run key:generate` to write APP_KEY to .env (or set it to "base64:" and 32 random bytes in base64), the same for every process.',
    });
    const key = `base64:${Buffer.alloc(32, 7).toString('base64')}`;
    const badPrevious = await app.doctor([], { APP_KEY: key, APP_PREVIOUS_KEYS: 'short' });
    expect(check(badPrevious.report, 'Encryption')).toMatchObject({
      status: 'fail',
      detail:
        'key 1 of APP_PREVIOUS_KEYS is not a valid key: it is 5 bytes without a "base64:" prefix, not 32 (encrypted jobs: card.charge)',
    });
    const good = await app.doctor([], { APP_KEY: key });
    expect(good.result.code, good.result.stdout).toBe(0);
    expect(check(good.report, 'Encryption')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^APP_KEY [0-9a-f]{8} for 1 encrypted job\(s\)$/),
    });
    expect(good.result.stdout).not.toContain(key);
  });

  it('rejects a --supervisor file that cannot be read; exit 2', async () => {
    const result = await app.run(['doctor', '--supervisor', 'missing.conf']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --supervisor must be a readable supervisor .conf file, got "missing.conf" (ENOENT).\n',
    );
  });
});
