/**
 * Migrated storage to copy from, made once per run by the globalSetup: a migrated SQLite file
 * and, when PostgreSQL is up, a migrated database to use as a `CREATE DATABASE ... TEMPLATE`.
 * A test that needs a migrated schema copies one (a file copy, a server-side copy) instead of
 * running the migrations again: with 18 and more migrations that was about half a second per
 * PostgreSQL database and a CLI start per app.
 *
 * Tests of the migrations themselves keep starting from empty storage (createTestDatabase()).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrate.js';

export interface StorageTemplates {
  /** A migrated SQLite file; copy it, never open it for writing. */
  sqliteFile: string;
  /** Name of a migrated PostgreSQL database on the test server, or null without PostgreSQL. */
  pgTemplate: string | null;
}

async function migrate(env: Record<string, string>, cwd: string): Promise<void> {
  const db = await openDatabase(parseEnv(env), cwd);
  try {
    await migrateLatest(db);
  } finally {
    await db.knex.destroy();
  }
}

/** Runs `fn` with a client of the server's admin URL (the globalSetup's and the helpers'). */
export async function withAdminClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Makes the templates; the returned function removes them (the globalSetup's teardown). */
export async function makeTemplates(
  pgUrl: string | null,
): Promise<{ templates: StorageTemplates; remove(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobsmith-template-'));
  const sqliteFile = path.join(dir, 'template.sqlite');
  await migrate({ DB_CONNECTION: 'sqlite', DB_DATABASE: sqliteFile }, dir);

  let pgTemplate: string | null = null;
  if (pgUrl) {
    const name = `jobsmith_template_${randomBytes(6).toString('hex')}`;
    await withAdminClient(pgUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    await migrate({ DB_CONNECTION: 'pgsql', DATABASE_URL: url.toString() }, dir);
    pgTemplate = name;
  }
  return {
    templates: { sqliteFile, pgTemplate },
    async remove() {
      rmSync(dir, { recursive: true, force: true });
      if (pgUrl && pgTemplate) {
        const name = pgTemplate;
        await withAdminClient(pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}"`)).catch(
          () => {},
        );
      }
    },
  };
}
