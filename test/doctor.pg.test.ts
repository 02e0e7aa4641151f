/**
 * `run doctor` on PostgreSQL: a database that answers reads but refuses writes (a role without
 * rights, a read-only transaction) or cannot be migrated must not pass. Roles are cluster-wide,
 * so each test makes its own, with a random name, and drops it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrations } from '../migrations/index.js';
import { maskUrl } from '../src/logging/redact.js';
import { check, useDoctorApp } from './doctor.fixture.js';
import {
  createTestDatabase,
  describePg,
  pgAdminUrl,
  type TestDatabase,
} from './helpers/services.js';

const ALL = migrations.map((m) => m.name);

async function sql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

describePg('run doctor on PostgreSQL', () => {
  let database: TestDatabase;
  let role: string | undefined;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database.drop();
    if (role) await sql(pgAdminUrl(), [`drop role if exists ${role}`]);
    role = undefined;
  });
  const app = useDoctorApp(() => ({ DB_CONNECTION: 'pgsql', DATABASE_URL: database.url }));

  /** A login role with CONNECT and USAGE on public, plus `grants` run in the test database. */
  async function makeRole(grants: (role: string) => string[]): Promise<string> {
    role = `jobsmith_doctor_${randomBytes(4).toString('hex')}`;
    await sql(pgAdminUrl(), [`create role ${role} login`]);
    await sql(database.url, [
      `grant connect on database ${database.name} to ${role}`,
      `grant usage on schema public to ${role}`,
      ...grants(role),
    ]);
    const url = new URL(database.url);
    url.username = role;
    return url.toString();
  }

  it('passes a migrated database the role can write', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    const { result, report } = await app.doctor();
    expect(result.code, JSON.stringify(report)).toBe(0);
    expect(check(report, 'Database').detail).toBe(
      `PostgreSQL ${maskUrl(database.url)} answers and takes writes (role postgres)`,
    );
    expect(check(report, 'Migrations').detail).toBe('all applied');
  });

  it('fails a role that may only read, listing what it lacks and the GRANT that fixes it', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    const url = await makeRole((r) => [`grant select on all tables in schema public to ${r}`]);
    const { result, report } = await app.doctor([], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(check(report, 'Database')).toEqual({
      check: 'Database',
      status: 'fail',
      detail:
        `PostgreSQL ${maskUrl(url)}: role ${role} lacks INSERT, UPDATE, DELETE on alert_states, breakers, failed_jobs, gpt_requests, job_attempts, job_batch_jobs, job_batches, job_cancels, job_history, job_locks, ` +
        'job_metrics, job_uniques, jobs, jobsmith_meta, mail_receipts, queue_settings, rate_limit_blocks, rate_limits, schedule_leases, schedule_slots, telegram_chats, ' +
        'telegram_scheduled_messages, telegram_state, telegram_updates, workers; ' +
        'USAGE on failed_jobs_id_seq, gpt_requests_id_seq, job_attempts_seq_seq, jobs_id_seq, telegram_scheduled_messages_id_seq, telegram_updates_id_seq',
      fix:
        `As the owner of the tables: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}; ` +
        `GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
    });
    // The fix it gives works.
    await sql(database.url, [
      `grant select, insert, update, delete on all tables in schema public to ${role}`,
      `grant usage on all sequences in schema public to ${role}`,
    ]);
    const fixed = await app.doctor([], { DATABASE_URL: url });
    expect(check(fixed.report, 'Database').status).toBe('ok');
  });

  it('fails a database in read-only mode', async () => {
    app.writeConfig({ 'quick.job': {} });
    expect((await app.run(['migrate'])).code).toBe(0);
    await sql(database.url, [
      `alter database ${database.name} set default_transaction_read_only = on`,
    ]);
    const { result, report } = await app.doctor();
    expect(result.code).toBe(1);
    expect(check(report, 'Database')).toEqual({
      check: 'Database',
      status: 'fail',
      detail: `PostgreSQL ${maskUrl(database.url)} refuses writes: cannot execute CREATE TABLE in a read-only transaction`,
      fix: 'Point DATABASE_URL at the primary server, and let this role and database write (default_transaction_read_only = off).',
    });
  });

  it('says commands apply pending migrations, unless the role cannot or MIGRATE_ON_START=false', async () => {
    app.writeConfig({ 'quick.job': {} });
    const pending = `${ALL.length} pending (${ALL.join(', ')})`;
    const fresh = await app.doctor();
    expect(fresh.result.code).toBe(0);
    expect(check(fresh.report, 'Migrations')).toMatchObject({
      status: 'ok',
      detail: `${pending}: the next command that uses the database applies them`,
    });

    const off = await app.doctor([], { MIGRATE_ON_START: 'false' });
    expect(check(off.report, 'Migrations')).toEqual({
      check: 'Migrations',
      status: 'fail',
      detail: `${pending}; MIGRATE_ON_START=false, so commands do not apply them`,
      fix: 'Run `run migrate` (or leave MIGRATE_ON_START unset so commands apply them).',
    });

    // PostgreSQL 15+: only the owner of schema public may create tables in it.
    const url = await makeRole(() => [`revoke create on schema public from public`]);
    const cannot = await app.doctor([], { DATABASE_URL: url });
    expect(cannot.result.code).toBe(1);
    expect(check(cannot.report, 'Database').status).toBe('ok');
    expect(check(cannot.report, 'Migrations')).toEqual({
      check: 'Migrations',
      status: 'fail',
      detail: `${pending}, and role ${role} may not create tables in schema public, so commands cannot apply them`,
      fix: `Run \`run migrate\` as the role that owns the schema (and set MIGRATE_ON_START=false for ${role}), or GRANT CREATE ON SCHEMA public TO ${role}.`,
    });
  });
});
