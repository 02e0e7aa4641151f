/**
 * A scratch app for the queue:* operator command tests: a temp dir with a jobsmith.config.ts,
 * its own storage (an SQLite file, a fresh PostgreSQL database, or Redis jobs under a key prefix
 * of their own with failed jobs in an SQLite file), and helpers that run `bin/run` the way an
 * operator does. One app per describe; tests in it use their own queues.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { failedJobJson } from '../src/failed/present.js';
import { DatabaseFailedJobStore } from '../src/failed/store.js';
import { RedisQueue } from '../src/queue/redis/redis-queue.js';
import { runCliInHost } from './helpers/cli-host.js';
import { spawnCli, type CliProcess, type CliResult } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  copyMigratedSqlite,
  createMigratedTestDatabase,
  deleteRedisKeys,
  describePg,
  describeRedis,
  redisCommands,
  redisPrefix,
  redisUrl,
  tempDir,
  type TestDatabase,
} from './helpers/services.js';

export type Backend = 'sqlite' | 'pgsql' | 'redis';

/**
 * Jobs for the tests. Each run appends `name:n` to runs.log in the working directory, so a test
 * can tell which jobs ran and how often. `later.job` is registered only with WITH_LATER=1: a
 * job name the worker does not know yet.
 */
const CONFIG = `
import { appendFileSync, existsSync } from 'node:fs';
import { defineConfig, defineJob, Permanent } from 'jobsmith';
import { z } from 'zod';

const payload = z.object({ n: z.number() });
type P = { n: number };
const record = (name: string, n: number) => appendFileSync('runs.log', name + ':' + n + '\\n');

export const ok = defineJob({
  name: 'ok.job',
  schema: payload,
  tries: 4,
  async handle(p: P) { record('ok.job', p.n); },
});
export const boom = defineJob({
  name: 'boom.job',
  schema: payload,
  tries: 5,
  async handle(p: P) { throw new Permanent('boom ' + p.n); },
});
// Fails until a file named "fixed" exists in the working directory.
export const flaky = defineJob({
  name: 'flaky.job',
  schema: payload,
  tries: 2,
  async handle(p: P) {
    if (!existsSync('fixed')) throw new Permanent('not fixed ' + p.n);
    record('flaky.job', p.n);
  },
});
export const slow = defineJob({
  name: 'slow.job',
  schema: payload,
  async handle(p: P) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    record('slow.job', p.n);
  },
});
export const later = defineJob({
  name: 'later.job',
  schema: payload,
  tries: 6,
  async handle(p: P) { record('later.job', p.n); },
});

// Unique per |n| for an hour: a negative n fails at once, so a failed copy and a pending one
// (n = -1 and n = 1) share the key "u:1".
export const uniq = defineJob({
  name: 'uniq.job',
  schema: payload,
  unique: { key: (p: P) => 'u:' + Math.abs(p.n), for: 3600 },
  async handle(p: P) {
    if (p.n < 0) throw new Permanent('negative ' + p.n);
    record('uniq.job', p.n);
  },
});

// Reports its progress twice, then fails for good: its history keeps the last value.
export const partial = defineJob({
  name: 'partial.job',
  schema: payload,
  async handle(p: P, ctx) {
    await ctx.progress({ done: p.n, of: 10 });
    await ctx.progress({ done: p.n + 1, of: 10 });
    throw new Permanent('stopped at ' + (p.n + 1));
  },
});

const jobs = [ok, boom, flaky, slow, uniq, partial];
export default defineConfig({ jobs: process.env.WITH_LATER === '1' ? [...jobs, later] : jobs });
`;

/** A row of `queue:failed --json`. */
export interface FailedJson {
  id: number;
  uuid: string;
  connection: string;
  queue: string;
  name: string;
  attempts: number;
  priority: number;
  reason: string;
  exception: string;
  payload: string;
  original_id: string | null;
  failed_at: string;
}

/** A row of the jobs table. */
export interface StoredJob {
  id: string;
  name: string;
  queue: string;
  priority: number;
  attempts: number;
  max_tries: number;
  payload: string;
  last_error: string | null;
}

type Env = Record<string, string | undefined>;

export interface QueueApp {
  backend: Backend;
  /** The queue connection the app's jobs are on: `database`, or `redis`. */
  connection: string;
  cwd: string;
  /** The environment the app's commands run with (storage, queue connection, prefix). */
  env: Env;
  run(args: string[], options?: { env?: Env; input?: string }): Promise<CliResult>;
  /** Runs a command that must succeed (exit 0, nothing on stderr) and returns its stdout. */
  ok(args: string[], env?: Env): Promise<string>;
  /** Runs a command with --json that must succeed, and parses its output. */
  json<T>(args: string[], env?: Env): Promise<T>;
  spawn(args: string[], timeoutMs?: number): CliProcess;
  /** Dispatches one job per payload `{ n }` with `queue:dispatch`; returns the job ids. */
  dispatch(name: string, ns: number[], flags?: string[], env?: Env): Promise<string[]>;
  /** `queue:work --queue Q --stop-when-empty`, which must exit 0. */
  work(queue: string, env?: Env): Promise<CliResult>;
  /** Dispatches boom.job (or `name`) for each n on `queue` and works it: failed jobs, by n. */
  fail(queue: string, ns: number[], name?: string): Promise<FailedJson[]>;
  /** The failed jobs (of a queue), oldest first, read from storage as queue:failed --json shows them. */
  failed(queue?: string): Promise<FailedJson[]>;
  /** The jobs of a queue in claim order, read from storage. */
  jobs(queue: string): Promise<StoredJob[]>;
  /** Stores a progress value with a live job, as ctx.progress stores it. */
  setProgress(jobId: string, progress: unknown): Promise<void>;
  sizes(queues: string[]): Promise<Array<Record<string, unknown>>>;
  /** Lines of runs.log: `name:n` per run. */
  runs(): string[];
  /** The same SQL storage the CLI uses, opened from the test (for what no command does). */
  db(): Promise<Database>;
  /** Inserts a failed job directly, `hoursAgo` in the past, as if it failed then. */
  insertOldFailed(queue: string, hoursAgo: number, n?: number): Promise<number>;
  /**
   * Marks a waiting job as held by a worker (a live lease of an hour). On Redis it is claimed as
   * a worker claims it: it must be the next job of its queue.
   */
  reserve(jobId: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createQueueApp(backend: Backend): Promise<QueueApp> {
  const dir = tempDir(`jobsmith-queue-${backend}-`);
  const cwd = realpathSync(dir.path);
  writeFileSync(path.join(cwd, 'jobsmith.config.ts'), CONFIG);
  let pg: TestDatabase | undefined;
  let prefix: string | undefined;
  let env: Env;
  // Storage starts migrated (a copy of the run's template), as after `run migrate`.
  if (backend === 'pgsql') {
    pg = await createMigratedTestDatabase();
    env = appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url });
  } else if (backend === 'redis') {
    prefix = redisPrefix('jobsmith-queue').replace(/:$/, '');
    env = appEnv({
      DB_CONNECTION: 'sqlite',
      DB_DATABASE: 'storage/database.sqlite',
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
    });
  } else {
    env = appEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: 'storage/database.sqlite' });
  }
  // SQLite (also the SQL storage of a redis app) lives at DB_DATABASE.
  if (backend !== 'pgsql') copyMigratedSqlite(path.join(cwd, 'storage/database.sqlite'));
  let database: Promise<Database> | undefined;
  /** On Redis: a driver of the test's own, for what only a worker does (reserve). */
  let redisDriver: Promise<RedisQueue> | undefined;
  const redisQueue = () => {
    redisDriver ??= (async () => {
      const driver = new RedisQueue({
        url: redisUrl(),
        prefix: prefix!,
        knex: async () => (await app.db()).knex,
      });
      await driver.connect();
      return driver;
    })();
    return redisDriver;
  };

  // Commands run in a long-lived CLI host (test/helpers/cli-host.ts): these suites run hundreds.
  const run: QueueApp['run'] = (args, options = {}) =>
    runCliInHost(args, { cwd, env: { ...env, ...options.env }, input: options.input });

  const ok: QueueApp['ok'] = async (args, extra) => {
    const result = await run(args, { env: extra });
    expect(result.stderr, `run ${args.join(' ')}`).toBe('');
    expect(result.code, `run ${args.join(' ')}`).toBe(0);
    return result.stdout;
  };

  const json = async <T>(args: string[], extra?: Env) =>
    JSON.parse(await ok([...args, '--json'], extra)) as T;

  const app: QueueApp = {
    backend,
    connection: backend === 'redis' ? 'redis' : 'database',
    cwd,
    env,
    run,
    ok,
    json,
    spawn: (args, timeoutMs = 30_000) => spawnCli(args, { cwd, env, timeoutMs }),
    async dispatch(name, ns, flags = [], extra) {
      const input = ns.map((n) => JSON.stringify({ n })).join('\n');
      const result = await run(['queue:dispatch', name, '--json', ...flags], {
        input,
        env: extra,
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as Array<{ id: string }>).map((r) => r.id);
    },
    async work(queue, extra) {
      const result = await run(['queue:work', '--queue', queue, '--stop-when-empty'], {
        env: extra,
      });
      expect(result.code, result.stderr).toBe(0);
      return result;
    },
    async fail(queue, ns, name = 'boom.job') {
      await app.dispatch(name, ns, ['--queue', queue]);
      await app.work(queue);
      const rows = await app.failed(queue);
      return ns.map((n) => {
        const row = rows.find((r) => r.payload === JSON.stringify({ n }));
        expect(row, `no failed job for n=${n} on ${queue}`).toBeDefined();
        return row!;
      });
    },
    async failed(queue) {
      const store = new DatabaseFailedJobStore((await app.db()).knex);
      return (await store.page({ queue }, 0, 10_000)).map(failedJobJson);
    },
    async jobs(queue) {
      if (prefix) {
        const rows = await (await redisQueue()).list(queue, undefined, 0, 10_000);
        return rows.map((r) => ({
          id: r.id,
          name: r.name,
          queue: r.queue,
          priority: r.priority,
          attempts: r.attempts,
          max_tries: r.maxTries,
          payload: r.payload,
          last_error: r.lastError,
        }));
      }
      const { knex } = await app.db();
      const rows = await knex('jobs')
        .where({ queue })
        .orderBy([{ column: 'priority', order: 'desc' }, 'id']);
      return rows.map((r: Record<string, unknown>) => ({
        id: String(r.id),
        name: r.name as string,
        queue: r.queue as string,
        priority: Number(r.priority),
        attempts: Number(r.attempts),
        max_tries: Number(r.max_tries),
        payload: r.payload as string,
        last_error: (r.last_error as string | null) ?? null,
      }));
    },
    sizes: (queues) => json(['queue:size', ...queues]),
    runs() {
      const file = path.join(cwd, 'runs.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    db() {
      database ??= openDatabase(parseEnv(env), cwd);
      return database;
    },
    async insertOldFailed(queue, hoursAgo, n = 0) {
      const { knex } = await app.db();
      const [row] = await knex('failed_jobs')
        .insert({
          uuid: randomUUID(),
          connection: 'database',
          queue,
          name: 'boom.job',
          payload: JSON.stringify({ n }),
          exception: `Error: failed ${hoursAgo} hours ago\n    at somewhere`,
          reason: 'error',
          attempts: 5,
          priority: 0,
          failed_at: Date.now() - hoursAgo * 3_600_000,
        })
        .returning('id');
      return Number((row as { id: unknown }).id);
    },
    async setProgress(jobId, progress) {
      const text = JSON.stringify(progress);
      if (prefix) {
        // BullMQ's own progress field of the job hash, `<prefix>:<queue>:<id>` (the id's form).
        const key = `${prefix}:${jobId}`;
        const [exists] = await redisCommands(redisUrl(), [['EXISTS', key]]);
        expect(exists, `no job hash ${key}`).toBe(1);
        await redisCommands(redisUrl(), [['HSET', key, 'progress', text]]);
        return;
      }
      const { knex } = await app.db();
      expect(await knex('jobs').where({ id: jobId }).update({ progress: text })).toBe(1);
    },
    async reserve(jobId) {
      if (prefix) {
        const driver = await redisQueue();
        const [claimed] = await driver.claim(
          [jobId.slice(0, jobId.lastIndexOf(':'))],
          1,
          3_600_000,
        );
        expect(claimed?.id, 'reserve on redis claims the next job of its queue').toBe(jobId);
        return;
      }
      const { knex } = await app.db();
      const changed = await knex('jobs')
        .where({ id: jobId })
        .update({
          reserved_at: Date.now(),
          available_at: Date.now() + 3_600_000,
          token: 'held-by-test',
        });
      expect(changed).toBe(1);
    },
    async cleanup() {
      if (redisDriver) await (await redisDriver).close();
      if (database) await (await database).knex.destroy();
      await pg?.drop();
      if (prefix) await deleteRedisKeys(redisUrl(), `${prefix}:`);
      dir.cleanup();
    },
  };
  return app;
}

/**
 * `describe` with a fresh app for its tests (SQLite always; PostgreSQL and Redis when their
 * servers are up).
 * The app is created once for the describe: tests use distinct queue names.
 */
export function describeApp(
  backend: Backend,
  name: string,
  fn: (app: () => QueueApp) => void,
  /** False skips the describe (a service it needs besides its storage is down). */
  enabled = true,
): void {
  const wrap = !enabled
    ? describe.skip
    : backend === 'pgsql'
      ? describePg
      : backend === 'redis'
        ? describeRedis
        : describe;
  wrap(`${name} (${backend})`, () => {
    let current: QueueApp | undefined;
    beforeAll(async () => {
      current = await createQueueApp(backend);
    });
    afterAll(async () => {
      await current?.cleanup();
    });
    fn(() => {
      if (!current) throw new Error('no app: call inside a test');
      return current;
    });
  });
}

/** Splits a plain (piped) table into cells: columns are separated by two or more spaces. */
export function tableRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(/\s{2,}/));
}
