import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { JOBSMITH_TABLES, MIGRATION_TABLES } from './tables.js';

/*
 * What `select 1` cannot see: a database that answers reads but refuses writes (a read-only
 * file, mount or transaction, a standby, a role without rights) and an SQLite file with corrupt
 * pages. Each probe writes inside a transaction that is always rolled back, so it leaves nothing
 * behind (on PostgreSQL a sequence value may be spent).
 */

/** Thrown by the probes; `kind` picks the message and the fix. */
export class ProbeFailure extends Error {
  constructor(
    readonly kind: 'corrupt' | 'read-only' | 'busy' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

const ROLLBACK = Symbol('rollback');

/** Runs `fn` in a transaction and rolls it back whatever happens. */
async function rolledBack(knex: Knex, fn: (trx: Knex.Transaction) => Promise<void>) {
  try {
    await knex.transaction(async (trx) => {
      await fn(trx);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
}

/** knex prefixes a failed statement's SQL to the driver's message: keep only the message. */
async function raw(knex: Knex, sql: string, bindings: readonly unknown[] = []): Promise<unknown> {
  try {
    return await knex.raw(sql, bindings as Knex.RawBinding[]);
  } catch (error) {
    // The prefix is the SQL with its bindings filled in: match on the start of the statement.
    const at = error instanceof Error ? error.message.indexOf(' - ') : -1;
    if (at > 0 && (error as Error).message.startsWith(sql.slice(0, 20))) {
      (error as Error).message = (error as Error).message.slice(at + 3);
    }
    throw error;
  }
}

const probeTable = () => `jobsmith_doctor_probe_${randomBytes(4).toString('hex')}`;

/**
 * SQLite: `PRAGMA quick_check` (reads every page: seconds for a large file), then a table
 * created and a row written in a rolled-back transaction.
 * @throws ProbeFailure `corrupt` with SQLite's first findings, `read-only`, `busy`, `failed`
 */
export async function probeSqlite(knex: Knex): Promise<void> {
  let findings: string[];
  try {
    const rows = (await raw(knex, 'pragma quick_check(5)')) as Array<Record<string, string>>;
    // One row per problem, or one row of lines; `*** in database main ***` is a heading.
    findings = rows
      .flatMap((r) => String(Object.values(r)[0]).split('\n'))
      .filter((line) => line !== 'ok' && !line.startsWith('*** in database'));
  } catch (error) {
    throw sqliteFailure(error);
  }
  if (findings.length > 0) {
    const more = findings.length > 3 ? '; and more' : '';
    throw new ProbeFailure('corrupt', `${findings.slice(0, 3).join('; ')}${more}`);
  }
  try {
    await rolledBack(knex, async (trx) => {
      const table = probeTable();
      await raw(trx, `create table ${table} (id integer)`);
      await raw(trx, `insert into ${table} (id) values (1)`);
    });
  } catch (error) {
    throw sqliteFailure(error);
  }
}

function sqliteFailure(error: unknown): ProbeFailure {
  const code = String((error as { code?: string }).code ?? '');
  const text = `${(error as Error).message} (${code || 'error'})`;
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
    return new ProbeFailure('read-only', text);
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')
    return new ProbeFailure('corrupt', text);
  if (code.startsWith('SQLITE_BUSY')) return new ProbeFailure('busy', text);
  return new ProbeFailure('failed', text);
}

/** What a PostgreSQL role may do, found by {@link probePostgres}. */
export interface PostgresRights {
  /** current_user. */
  role: string;
  /** current_schema(), where the tables are (or will be) created. */
  schema: string;
  /** May create tables there (needed to apply migrations). */
  canCreate: boolean;
  /** Owns (or is a member of the owner of) the migrations table; true when it does not exist. */
  ownsSchema: boolean;
}

/**
 * PostgreSQL: not a standby; a table created (in a savepoint: a role without CREATE is fine
 * when someone else migrates) and a row written to jobsmith_meta (when it exists) in a
 * rolled-back transaction; then SELECT, INSERT, UPDATE, DELETE on every jobsmith table that
 * exists and USAGE on their sequences, and SELECT on knex's migration tables.
 * @returns the role's rights and the privileges it lacks (`INSERT, UPDATE on jobs, failed_jobs`...)
 * @throws ProbeFailure `read-only` (a standby, a read-only transaction); the driver's error otherwise
 */
export async function probePostgres(
  knex: Knex,
): Promise<{ rights: PostgresRights; missing: string[] }> {
  const [info] = (
    await knex.raw(
      `select current_user as role, current_schema() as schema, pg_is_in_recovery() as standby,
              to_regclass('jobsmith_meta') is not null as meta,
              coalesce((select pg_has_role(relowner, 'MEMBER') from pg_class
                        where oid = to_regclass('jobsmith_migrations')), true) as owns`,
    )
  ).rows as Array<{ role: string; schema: string; standby: boolean; meta: boolean; owns: boolean }>;
  if (info!.standby) {
    throw new ProbeFailure(
      'read-only',
      'the server is a standby (in recovery): it takes no writes',
    );
  }
  let canCreate = true;
  await rolledBack(knex, async (trx) => {
    await trx.raw(`set local lock_timeout = '2s'`);
    await trx.raw(`set local statement_timeout = '5s'`);
    await trx.raw('savepoint probe');
    try {
      await raw(trx, `create table ${probeTable()} (id integer)`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '25006') throw new ProbeFailure('read-only', (error as Error).message);
      if (code !== '42501') throw error;
      canCreate = false;
      await trx.raw('rollback to savepoint probe');
    }
    if (info!.meta) {
      try {
        await raw(trx, 'insert into jobsmith_meta (key, value) values (?, ?)', [
          `doctor:${randomBytes(6).toString('hex')}`,
          'write probe, rolled back',
        ]);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === '25006') throw new ProbeFailure('read-only', (error as Error).message);
        if (code !== '42501') throw error;
        // A missing privilege is listed in full by the query below.
      }
    }
  });
  const rights = { role: info!.role, schema: info!.schema, canCreate, ownsSchema: info!.owns };
  return { rights, missing: await missingPrivileges(knex) };
}

async function missingPrivileges(knex: Knex): Promise<string[]> {
  const { rows } = (await knex.raw(
    `with t as (select to_regclass(name) as oid, name = any(?::text[]) as read_only
                 from unnest(?::text[]) as name)
     select t.oid::text as object, p.privilege, 1 as kind, p.n
       from t cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE'])
                         with ordinality as p(privilege, n)
      where t.oid is not null and (p.n = 1 or not t.read_only)
        and not has_table_privilege(t.oid, p.privilege)
     union all
     select s.oid::regclass::text, 'USAGE', 2, 1
       from t join pg_depend d on d.refobjid = t.oid and d.deptype in ('a', 'i') and not t.read_only
       join pg_class s on s.oid = d.objid
      -- CASE: has_sequence_privilege() raises on the TOAST table the join also finds.
      where case when s.relkind = 'S' then not has_sequence_privilege(s.oid, 'USAGE') else false end
     order by kind, object, n`,
    [[...MIGRATION_TABLES], [...JOBSMITH_TABLES, ...MIGRATION_TABLES]],
  )) as { rows: Array<{ object: string; privilege: string }> };
  // `INSERT, UPDATE on jobs, failed_jobs`: objects that lack the same privileges, together.
  const byObject = new Map<string, string[]>();
  for (const r of rows) byObject.set(r.object, [...(byObject.get(r.object) ?? []), r.privilege]);
  const groups = new Map<string, string[]>();
  for (const [object, privileges] of byObject) {
    const key = privileges.join(', ');
    groups.set(key, [...(groups.get(key) ?? []), object]);
  }
  return [...groups].map(([privileges, objects]) => `${privileges} on ${objects.join(', ')}`);
}
