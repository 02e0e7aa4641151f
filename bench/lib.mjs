// Shared set-up for jobsmith's own benchmarks: fresh storage, a worker, timing helpers.
// Runs against the built package (dist/), as users run it: `npm run build` first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const dist = new URL('../dist/src/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);

export const PG_ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Opens fresh, migrated storage and a database driver on it. */
export async function openStorage(backend) {
  const { parseEnv } = await load('config/env.js');
  const { openDatabase } = await load('db/connection.js');
  const { migrateLatest } = await load('db/migrate.js');
  let env;
  let cleanup;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-'));
    env = parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: join(dir, 'bench.sqlite') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `jobsmith_bench_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    env = parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: url.toString() });
    cleanup = async () => {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  }
  const db = await openDatabase(env, process.cwd());
  await migrateLatest(db);
  const { QueueConnections } = await load('queue/connections.js');
  const { JobRegistry } = await load('jobs/registry.js');
  const connections = new QueueConnections({
    env,
    cwd: process.cwd(),
    db: async () => db,
    registry: async () => new JobRegistry([]),
  });
  const driver = await connections.get('database');
  return {
    env,
    db,
    driver,
    async close() {
      await connections.close();
      await db.knex.destroy();
      await cleanup();
    },
  };
}

/** A Worker over `driver` running `jobs`. */
export async function makeWorker(driver, jobs, options) {
  const { Worker } = await load('worker/worker.js');
  const { JobRegistry } = await load('jobs/registry.js');
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
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
      log: quiet,
      dispatch: async () => {
        throw new Error('not in benchmarks');
      },
    },
  );
}

export async function defineJob(options) {
  return (await load('index.js')).defineJob(options);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
