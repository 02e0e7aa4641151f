import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { App } from '../cli/app.js';
import type { Database } from '../db/connection.js';
import { migrationStatus } from '../db/migrate.js';
import { JobsmithError } from '../errors.js';
import { maskUrl } from '../logging/redact.js';
import { resolveSchedule } from '../schedule/resolve.js';
import { fail, ok, skip, type CheckResult } from './check.js';
import { pingRedis } from './redis-ping.js';
import { readSupervisorConf } from './supervisor-conf.js';

/* The checks of `run doctor`, one function each. Each returns a result and never throws. */

/** `90s`, `0.5s`: durations as the flags and variables take them. */
const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const hintOf = (error: unknown, otherwise: string) =>
  (error instanceof JobsmithError && error.hint) || otherwise;

export async function checkConfig(app: App): Promise<CheckResult> {
  const name = 'Configuration';
  try {
    const { file, config } = await app.config();
    if (!file) {
      return fail(
        name,
        `No jobsmith.config.ts in ${app.cwd}, so workers know no jobs.`,
        'Run from the folder that holds jobsmith.config.ts, or pass --config PATH (or set JOBSMITH_CONFIG).',
      );
    }
    const jobs = config.jobs?.length ?? 0;
    const entries = resolveSchedule(config, file).length;
    return ok(
      name,
      `${relative(app.cwd, file) || file}: ${jobs} job(s), ${entries} schedule entr${entries === 1 ? 'y' : 'ies'}`,
    );
  } catch (error) {
    return fail(name, message(error), hintOf(error, 'Fix the config file.'));
  }
}

export async function checkDatabase(app: App): Promise<{ result: CheckResult; db?: Database }> {
  const name = 'Database';
  try {
    const db = await app.db({ migrate: false });
    return {
      result: ok(
        name,
        `${db.dialect === 'pgsql' ? 'PostgreSQL' : 'SQLite'} ${db.describe} answers`,
      ),
      db,
    };
  } catch (error) {
    return {
      result: fail(name, message(error), hintOf(error, 'Check DB_CONNECTION and DATABASE_URL.')),
    };
  }
}

export async function checkMigrations(db: Database | undefined): Promise<CheckResult> {
  const name = 'Migrations';
  if (!db) return skip(name, 'needs the database');
  try {
    const status = await migrationStatus(db);
    const pending = status.filter((m) => !m.applied).map((m) => m.name);
    if (pending.length === 0) return ok(name, `all ${status.length} applied`);
    return fail(
      name,
      `${pending.length} pending: ${pending.join(', ')}`,
      db.dialect === 'sqlite'
        ? 'Run `run migrate` (any command that uses SQLite also applies them).'
        : 'Run `run migrate` (or leave MIGRATE_ON_START unset so commands apply them).',
    );
  } catch (error) {
    return fail(name, message(error), 'Check the database, then run `run migrate:status`.');
  }
}

export async function checkRedis(app: App): Promise<CheckResult> {
  const name = 'Redis';
  const users: string[] = [];
  if (app.env.QUEUE_CONNECTION === 'redis') users.push('QUEUE_CONNECTION=redis');
  try {
    const { config, file } = await app.config();
    for (const entry of resolveSchedule(config, file)) {
      if (entry.action.type === 'job' && entry.action.connection === 'redis') {
        users.push(`schedule entry ${entry.name}`);
      }
    }
  } catch {
    // An unreadable config is the configuration check's to report.
  }
  if (users.length === 0)
    return skip(name, `not used (QUEUE_CONNECTION=${app.env.QUEUE_CONNECTION})`);
  try {
    const ms = await pingRedis(app.env.REDIS_URL);
    return ok(
      name,
      `${maskUrl(app.env.REDIS_URL)} answered PING in ${ms}ms (used by ${users.join(', ')})`,
    );
  } catch (error) {
    return fail(
      name,
      message(error),
      hintOf(error, 'Check REDIS_URL and that the Redis server is running.'),
    );
  }
}

export function checkLogFolder(app: App): CheckResult {
  const name = 'Log folder';
  const file = resolve(app.cwd, app.env.LOG_FILE);
  const folder = dirname(file);
  // A missing folder is created on first use: what matters is the nearest one that exists.
  let existing = folder;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) throw new Error(`${existing} is not a folder`);
    accessSync(existing, constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EACCES' ? 'not writable' : message(error);
    return fail(
      name,
      `${existsSync(file) ? file : existing}: ${reason}`,
      `Make ${folder} writable by the user that runs the workers (mkdir -p ${folder} && chown USER ${folder}), or set LOG_FILE.`,
    );
  }
  return ok(
    name,
    existing === folder
      ? `${folder} is writable`
      : `${folder} will be created (in writable ${existing})`,
  );
}

export async function checkTimeouts(app: App): Promise<CheckResult> {
  const name = 'Job timeouts';
  const leaseMs = app.env.QUEUE_LEASE;
  let jobs;
  try {
    jobs = (await app.registry()).all();
  } catch {
    return skip(name, 'needs a valid configuration');
  }
  if (jobs.length === 0) return skip(name, 'no jobs registered');
  // A lease is renewed while its job runs, but not while a CPU-bound handler blocks the event
  // loop: then a timeout past the lease lets another worker claim the job while it still runs.
  // Equal counts as fine, because the defaults (timeout 60, QUEUE_LEASE 60s) are equal.
  const tooLong = jobs.filter((j) => j.timeout * 1000 > leaseMs);
  if (tooLong.length === 0) {
    const longest = Math.max(...jobs.map((j) => j.timeout));
    return ok(
      name,
      `no timeout (longest ${longest}s) is longer than QUEUE_LEASE ${seconds(leaseMs)}`,
    );
  }
  const longest = Math.max(...tooLong.map((j) => j.timeout));
  return fail(
    name,
    `timeout longer than QUEUE_LEASE ${seconds(leaseMs)}: ${tooLong.map((j) => `${j.name} (${j.timeout}s)`).join(', ')}`,
    `Set QUEUE_LEASE above the longest timeout (e.g. QUEUE_LEASE=${Math.ceil(longest * 1.5)}s), or lower the timeout of ${tooLong.map((j) => j.name).join(', ')}.`,
  );
}

/** Conf files looked for when --supervisor is not given, relative to the working directory. */
export const SUPERVISOR_CANDIDATES = [
  '/etc/supervisor/conf.d/jobsmith.conf',
  'examples/supervisor/jobsmith.conf',
];

export function checkSupervisor(app: App, explicit?: string): CheckResult {
  const name = 'Supervisor';
  const file =
    explicit ?? SUPERVISOR_CANDIDATES.map((c) => resolve(app.cwd, c)).find((c) => existsSync(c));
  if (!file) {
    return skip(
      name,
      `no conf found (looked for ${SUPERVISOR_CANDIDATES.join(', ')}); pass --supervisor PATH`,
    );
  }
  let programs;
  try {
    programs = readSupervisorConf(file);
  } catch (error) {
    return fail(
      name,
      `${file}: ${message(error)}`,
      'Pass --supervisor with a readable supervisor conf.',
    );
  }
  if (programs.length === 0)
    return skip(name, `${file} runs no queue:work or schedule:work program`);
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const p of programs) {
    if (p.graceMs === undefined) {
      problems.push(`${p.program}: cannot read --grace ${p.graceText}`);
      fixes.push(`write --grace as a duration (30s) in [program:${p.program}]`);
    } else if (!(p.stopwaitsecs * 1000 > p.graceMs)) {
      const needed = Math.ceil(p.graceMs / 1000) + 10;
      problems.push(
        `${p.program}: stopwaitsecs=${p.stopwaitsecs} is not longer than --grace ${seconds(p.graceMs)}, so supervisor kills it mid-drain`,
      );
      fixes.push(`set stopwaitsecs=${needed} in [program:${p.program}]`);
    }
  }
  if (problems.length > 0) {
    return fail(name, `${file}: ${problems.join('; ')}`, `In ${file}: ${fixes.join('; ')}.`);
  }
  return ok(
    name,
    `${file}: ${programs.map((p) => `${p.program} stopwaitsecs=${p.stopwaitsecs} > --grace ${seconds(p.graceMs!)}`).join(', ')}`,
  );
}
