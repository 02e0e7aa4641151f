// Shared helpers for the benchmarks: where things are, jobsmith's built modules, clocks, stats.
// jobsmith is imported from the built package (../dist), as users run it: `npm run build` first.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
const dist = new URL('../dist/src/', import.meta.url);

/** Imports one of jobsmith's built modules, e.g. `jobsmith('queue/dispatcher.js')`. */
export const jobsmith = (path) => import(new URL(path, dist).href);

/** The same loader for another build's dist/ (a baseline for before/after runs), or ours. */
export const jobsmithAt = (distDir) =>
  distDir ? (path) => import(pathToFileURL(join(distDir, 'src', path)).href) : jobsmith;

/** Resolves a package the way jobsmith itself does (its own node_modules). */
export const requireFromRoot = createRequire(new URL('../package.json', import.meta.url));

export const PG_ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
export const epoch = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A URL for database `name` on the benchmark server. */
export function pgUrl(name) {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` with a short-lived client on `url`. */
export async function withPg(url, fn) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // a server restart mid-run fails the query, not the process
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database `name` on the bench's server; its URL. `settings`: server settings its
 * connections start with (ALTER DATABASE ... SET), e.g. `{ synchronous_commit: 'off' }`.
 */
export async function createPgDatabase(name, settings = {}) {
  await withPg(PG_ADMIN_URL, async (c) => {
    await c.query(`drop database if exists ${name} with (force)`);
    await c.query(`create database ${name}`);
    for (const [key, value] of Object.entries(settings))
      await c.query(`alter database ${name} set ${key} = '${value}'`);
  });
  return pgUrl(name);
}

export async function dropPgDatabase(name) {
  await withPg(PG_ADMIN_URL, (c) => c.query(`drop database if exists ${name} with (force)`));
}

/** A no-op logger for jobsmith's worker. */
export const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

/** Builds a jobsmith Worker the way `run queue:work` does, minus rendering and signals. */
export async function makeWorker(driver, jobs, options, load = jobsmith, deps = {}) {
  const { Worker } = await load('worker/worker.js');
  const { JobRegistry } = await load('jobs/registry.js');
  return new Worker(
    {
      queues: ['default'],
      concurrency: 1,
      once: false,
      stopWhenEmpty: false,
      sleepMs: 1000,
      restMs: 0,
      leaseMs: 60_000,
      graceMs: 5000,
      stuckGraceMs: 5000,
      name: 'bench',
      ...options,
    },
    {
      driver,
      registry: new JobRegistry(jobs),
      control: { pausedQueues: async () => new Set(), restartRequestedAt: async () => 0 },
      log: quietLog,
      dispatch: async () => {
        throw new Error('not in benchmarks');
      },
      ...deps,
    },
  );
}

// ---- statistics -------------------------------------------------------------------------

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Median, min, max and coefficient of variation of a list of round results. */
export function summarize(xs) {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return {
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    cv: mean === 0 ? 0 : sd / mean,
    n: xs.length,
  };
}

/** One reused connection for polling counts, so a poll costs one query, not a connect. */
export function pgCounter(url) {
  let client;
  return {
    async count(sql, params = []) {
      if (!client) {
        const c = new pg.Client({ connectionString: url });
        // Dropped (e.g. by a server restart): forget it and reconnect on the next poll.
        c.on('error', () => client === c && (client = undefined));
        await c.connect();
        client = c;
      }
      return Number((await client.query(sql, params)).rows[0].n);
    },
    async close() {
      await client?.end();
      client = undefined;
    },
  };
}

/** Deletes the keys matching `pattern` (SCAN, never KEYS or FLUSHDB: the server is shared). */
export async function deleteRedisKeys(pattern) {
  const { default: IORedis } = await import('ioredis');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Fresh storage for one `bin/run` app on `backend`, its files in `dir`: the variables that point
 * the app at it (an SQLite file in `dir`; a new PostgreSQL database; or Redis under a new prefix,
 * with the SQL side in `dir`), and `remove()`, which drops the database, the keys and `dir`.
 */
export async function benchStorage(backend, dir, tag, pgSettings = {}) {
  const id = randomBytes(4).toString('hex');
  const vars = { DB_CONNECTION: 'sqlite', DB_DATABASE: join(dir, 'jobsmith.sqlite') };
  const prefix = `jsbench:${id}:${tag}`;
  let dbName;
  if (backend === 'pgsql') {
    dbName = `jobsmith_bench_${tag}_${id}`;
    Object.assign(vars, {
      DB_CONNECTION: 'pgsql',
      DATABASE_URL: await createPgDatabase(dbName, pgSettings),
    });
    delete vars.DB_DATABASE;
  }
  if (backend === 'redis')
    Object.assign(vars, { QUEUE_CONNECTION: 'redis', REDIS_URL, REDIS_PREFIX: prefix });
  return {
    vars,
    async remove() {
      if (backend === 'redis') await deleteRedisKeys(`${prefix}:*`);
      if (dbName) await dropPgDatabase(dbName);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An in-process driver on fresh, migrated storage (benchStorage's) for `jobs`, as `run
 * queue:work` would open it: `{ driver, db, close() }`, close() removing the storage too.
 */
export async function openBenchBackend(backend, tag, jobs, pgSettings = {}) {
  const dir = mkdtempSync(join(tmpdir(), `jobsmith-bench-${tag}-`));
  const storage = await benchStorage(backend, dir, tag, pgSettings);
  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  const { migrateLatest } = await jobsmith('db/migrate.js');
  const { QueueConnections } = await jobsmith('queue/connections.js');
  const { JobRegistry } = await jobsmith('jobs/registry.js');
  const env = parseEnv({ LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'database', ...storage.vars });
  const db = await openDatabase(env, ROOT_DIR);
  await migrateLatest(db);
  const connections = new QueueConnections({
    env,
    cwd: ROOT_DIR,
    db: async () => db,
    registry: async () => new JobRegistry(jobs),
  });
  const driver = await connections.get();
  return {
    driver,
    db,
    async close() {
      await connections.close();
      await db.knex.destroy();
      await storage.remove();
    },
  };
}
