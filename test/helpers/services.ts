/**
 * Helpers for tests that need PostgreSQL, Redis or scratch directories.
 *
 * Availability comes from the globalSetup probe (test/setup/services.ts). Suites
 * wrapped in describePg/describeRedis are skipped locally when the service is down;
 * in CI the globalSetup fails the run instead, so they never silently skip there.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, inject } from 'vitest';
import { redisCommands, type ServicesInfo } from '../setup/services.js';
import { withAdminClient } from '../setup/templates.js';

export { redisCommands, RedisErrorReply } from '../setup/services.js';
export type { RedisReply, ServicesInfo } from '../setup/services.js';

export function services(): ServicesInfo {
  return inject('services');
}

export function pgAvailable(): boolean {
  return services().pg;
}

export function redisAvailable(): boolean {
  return services().redis;
}

/** Admin connection URL of the test PostgreSQL server (TEST_DATABASE_URL). */
export function pgAdminUrl(): string {
  return services().pgUrl;
}

/** URL of the test Redis server (TEST_REDIS_URL). */
export function redisUrl(): string {
  return services().redisUrl;
}

/** `describe` that is skipped when PostgreSQL is unreachable. */
export function describePg(name: string, fn: () => void): void {
  describe.skipIf(!pgAvailable())(name, fn);
}

/** `describe` that is skipped when Redis is unreachable. */
export function describeRedis(name: string, fn: () => void): void {
  describe.skipIf(!redisAvailable())(name, fn);
}

export interface TestDatabase {
  /** Database name, `jobsmith_test_<hex>`. */
  name: string;
  /** Connection URL for the new database (same server and credentials as the admin URL). */
  url: string;
  /** Terminates remaining connections and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates a fresh, empty database on the test server (or on the server of `adminUrl`, a test's
 * own cluster). Always `drop()` it (e.g. in afterAll).
 */
export async function createTestDatabase(adminUrl = pgAdminUrl()): Promise<TestDatabase> {
  return newDatabase(adminUrl, '');
}

/**
 * A fresh database on the test server with every migration applied, copied from the run's
 * migrated template (test/setup/templates.ts): a server-side copy, much cheaper than migrating.
 */
export async function createMigratedTestDatabase(): Promise<TestDatabase> {
  const template = inject('templates').pgTemplate;
  if (!template) throw new Error('createMigratedTestDatabase: PostgreSQL is not available');
  return newDatabase(pgAdminUrl(), ` TEMPLATE ${quoteIdent(template)}`);
}

/** Copies the run's migrated SQLite file (test/setup/templates.ts) to `file`, making its folder. */
export function copyMigratedSqlite(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(inject('templates').sqliteFile, file);
  // The storage is private to its user, as openDatabase makes it (test/files.private.test.ts).
  chmodSync(file, 0o600);
}

async function newDatabase(adminUrl: string, clause: string): Promise<TestDatabase> {
  const name = `jobsmith_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE ${quoteIdent(name)}${clause}`),
  );

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      await withAdminClient(adminUrl, async (client) => {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity ' +
            'WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      });
      dropped = true;
    },
  };
}

export interface TempDir {
  path: string;
  /** Removes the directory and everything in it. Safe to call twice. */
  cleanup(): void;
}

/** Creates a unique directory under os.tmpdir(), e.g. tempDir('jobsmith-cli-'). */
export function tempDir(prefix = 'jobsmith-test-'): TempDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    cleanup() {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

let prefixCounter = 0;

/**
 * A key prefix unique to this call (per process and random), e.g.
 * `jobsmith-test:1234-1-a1b2c3d4:`. Use one per test so that tests sharing the
 * Redis server never see each other's keys.
 */
export function redisPrefix(label = 'jobsmith-test'): string {
  prefixCounter += 1;
  return `${label}:${process.pid}-${prefixCounter}-${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded), so a test leaves the shared Redis clean. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [reply] = await redisCommands(url, [
      ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'],
    ]);
    const [next, keys] = reply as [string, string[]];
    if (keys.length > 0) await redisCommands(url, [['UNLINK', ...keys]]);
    cursor = next;
    if (cursor === '0') return;
  }
}
