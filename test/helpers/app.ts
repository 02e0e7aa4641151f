/**
 * A scratch app on any backend, for tests that run `bin/run` the way a user does: a temp dir
 * with the given jobsmith.config.ts and its own storage: an SQLite file; a fresh PostgreSQL
 * database; or Redis jobs under a key prefix of their own (failed jobs in an SQLite file).
 * `cleanup()` removes all of it.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { runCliInHost } from './cli-host.js';
import { runCli, spawnCli, type CliProcess, type CliResult } from './cli.js';
import { appEnv } from './env.js';
import {
  copyMigratedSqlite,
  createMigratedTestDatabase,
  createTestDatabase,
  deleteRedisKeys,
  describePg,
  describeRedis,
  redisPrefix,
  redisUrl,
  tempDir,
  type TestDatabase,
} from './services.js';

export type AppBackend = 'sqlite' | 'pgsql' | 'redis';
export const APP_BACKENDS: AppBackend[] = ['sqlite', 'pgsql', 'redis'];

type Env = Record<string, string | undefined>;

export interface TestApp {
  backend: AppBackend;
  cwd: string;
  /** The app's environment (jobsmith's variables only; the rest comes from the test process). */
  env: Env;
  run(
    args: string[],
    options?: { env?: Env; input?: string; timeoutMs?: number; spawn?: boolean },
  ): Promise<CliResult>;
  spawn(
    args: string[],
    options?: { env?: Env; keepStdinOpen?: boolean; timeoutMs?: number },
  ): CliProcess;
  /** The SQL storage (jobs on SQLite and PostgreSQL; failed jobs on every backend). */
  db(): Promise<Database>;
  cleanup(): Promise<void>;
}

/** `describe`, skipped with a notice when the backend's server is down. */
export function describeBackend(backend: AppBackend, name: string, fn: () => void): void {
  const title = `${name} (${backend})`;
  if (backend === 'pgsql') describePg(title, fn);
  else if (backend === 'redis') describeRedis(title, fn);
  else describe(title, fn);
}

export interface CreateAppOptions {
  /**
   * Start with every migration applied (a copy of the run's migrated template), as after
   * `run migrate`, without running it. Default true; false gives empty storage, for tests of
   * the migrations and of what commands do on a new database.
   */
  migrated?: boolean;
}

export async function createApp(
  backend: AppBackend,
  config: string,
  options: CreateAppOptions = {},
): Promise<TestApp> {
  const migrated = options.migrated ?? true;
  const dir = tempDir(`jobsmith-app-${backend}-`);
  const cwd = realpathSync(dir.path);
  writeFileSync(path.join(cwd, 'jobsmith.config.ts'), config);
  let pg: TestDatabase | undefined;
  let prefix: string | undefined;
  let env: Env;
  if (backend === 'pgsql') {
    pg = await (migrated ? createMigratedTestDatabase() : createTestDatabase());
    env = appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url });
  } else if (backend === 'redis') {
    prefix = redisPrefix('jobsmith-app').replace(/:$/, '');
    env = appEnv({
      DB_CONNECTION: 'sqlite',
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
    });
  } else {
    env = appEnv({ DB_CONNECTION: 'sqlite' });
  }
  // SQLite (also the SQL storage of a redis app) lives at the default DB_DATABASE.
  if (migrated && backend !== 'pgsql') {
    copyMigratedSqlite(path.join(cwd, 'storage/database.sqlite'));
  }
  let database: Promise<Database> | undefined;
  return {
    backend,
    cwd,
    env,
    // Commands run in a long-lived CLI host (test/helpers/cli-host.ts), unless `spawn` asks
    // for a process of their own (start-up behaviour, signals).
    run: (args, options = {}) =>
      (options.spawn ? runCli : runCliInHost)(args, {
        cwd,
        env: { ...env, ...options.env },
        input: options.input,
        timeoutMs: options.timeoutMs ?? 60_000,
      }),
    spawn: (args, options = {}) =>
      spawnCli(args, {
        cwd,
        env: { ...env, ...options.env },
        keepStdinOpen: options.keepStdinOpen,
        timeoutMs: options.timeoutMs ?? 60_000,
      }),
    db() {
      database ??= openDatabase(parseEnv(env), cwd);
      return database;
    },
    async cleanup() {
      if (database) await (await database).knex.destroy();
      await pg?.drop();
      if (prefix) await deleteRedisKeys(redisUrl(), `${prefix}:`);
      dir.cleanup();
    },
  };
}
