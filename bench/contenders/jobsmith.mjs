// jobsmith itself, through its public pieces: defineJob + Dispatcher to enqueue, the Worker to
// run jobs (what `run queue:work` builds), on the database driver (SQLite, PostgreSQL) or the
// redis driver. Logging is silenced, as it is for every contender.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPgDatabase,
  deleteRedisKeys,
  dropPgDatabase,
  jobsmith,
  jobsmithAt,
  makeWorker,
  REDIS_URL,
  requireFromRoot,
  ROOT_DIR,
} from '../lib.mjs';

export const peer = { name: 'jobsmith', version: requireFromRoot('./package.json').version };

/** Whether the built package has the redis driver yet. */
export const hasRedisDriver = () =>
  existsSync(join(ROOT_DIR, 'dist/src/queue/redis/redis-queue.js'));

function envFor(ctx) {
  const vars = { LOG_LEVEL: 'silent' };
  if (ctx.url) Object.assign(vars, { DB_CONNECTION: 'pgsql', DATABASE_URL: ctx.url });
  else Object.assign(vars, { DB_CONNECTION: 'sqlite', DB_DATABASE: ctx.file });
  if (ctx.backend === 'redis')
    Object.assign(vars, { QUEUE_CONNECTION: 'redis', REDIS_URL, REDIS_PREFIX: ctx.prefix });
  else vars.QUEUE_CONNECTION = 'database';
  return vars;
}

async function openDb(ctx, load = jobsmith) {
  const { parseEnv } = await load('config/env.js');
  const { openDatabase } = await load('db/connection.js');
  const env = parseEnv(envFor(ctx));
  return { env, db: await openDatabase(env, ROOT_DIR) };
}

/** Creates and migrates the storage once per run (parent process). */
export async function prepare(base) {
  const ctx = { ...base };
  if (base.backend === 'pgsql') {
    ctx.dbName = `jobsmith_bench_${base.runId}`;
    ctx.url = await createPgDatabase(ctx.dbName);
  } else {
    // SQLite for the queue, or for failed_jobs under the redis driver.
    ctx.dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-'));
    ctx.file = join(ctx.dir, 'jobsmith.sqlite');
  }
  // Our own key prefix: the Redis server is shared with other test runs, never FLUSHDB it.
  if (base.backend === 'redis') ctx.prefix = `jsbench:${base.runId}:js`;
  const { migrateLatest } = await jobsmith('db/migrate.js');
  const { db } = await openDb(ctx);
  await migrateLatest(db);
  await db.knex.destroy();
  return ctx;
}

export async function destroy(ctx) {
  if (ctx.prefix) await deleteRedisKeys(`${ctx.prefix}:*`);
  if (ctx.dbName) await dropPgDatabase(ctx.dbName);
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
}

/** Jobs the `prefetch` variant claims ahead (as graphile-worker's perfTest local queue). */
export const PREFETCH = 500;

/** The baseline build claims ahead too with BENCH_BASELINE_PREFETCH=1 (before/after of prefetch work). */
const prefetches = (variant) =>
  variant === 'prefetch' || (variant === 'baseline' && process.env.BENCH_BASELINE_PREFETCH === '1');

export async function open(ctx, variant) {
  // `baseline`: an older build (BENCH_BASELINE_DIST), for before/after runs in one session.
  const load = jobsmithAt(variant === 'baseline' ? process.env.BENCH_BASELINE_DIST : undefined);
  const { defineJob } = await load('index.js');
  const { QueueConnections } = await load('queue/connections.js');
  const { JobRegistry } = await load('jobs/registry.js');
  const { Dispatcher } = await load('queue/dispatcher.js');
  const { env, db } = await openDb(ctx, load);
  let hook = () => {};
  // `history`: every success kept in job_history (retain.succeeded), the cost of history on.
  const retain = variant === 'history' ? { retain: { succeeded: '1h' } } : {};
  const noop = defineJob({ name: 'noop', ...retain, handle: () => hook() });
  // As run queue:work attaches it; a baseline build older than job history has none.
  const attach =
    variant === 'baseline' ? undefined : (await load('history/attach.js')).startHistory;
  const connections = new QueueConnections({
    env,
    cwd: ROOT_DIR,
    db: async () => db,
    registry: async () => new JobRegistry([noop]),
  });
  const driver = await connections.get();
  const dispatcher = new Dispatcher(async () => driver);
  const queue = 'default';

  return {
    async reset() {
      if (ctx.backend === 'redis') await driver.clear(queue);
      if (db.dialect === 'pgsql') {
        await db.knex.raw(
          'truncate jobs, job_uniques, failed_jobs, job_history, job_attempts restart identity',
        );
      } else {
        for (const t of ['jobs', 'job_uniques', 'failed_jobs', 'job_history', 'job_attempts'])
          await db.knex(t).delete();
        await db.knex.raw('pragma wal_checkpoint(truncate)');
      }
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) {
        const items = [];
        for (let j = i; j < Math.min(n, i + 1000); j++)
          items.push({ job: noop, payload: { i: j } });
        await dispatcher.dispatchMany(items);
      }
      if (db.dialect === 'pgsql' && ctx.backend !== 'redis') await db.knex.raw('analyze jobs');
    },
    add: (i) => dispatcher.dispatch(noop, { i }),
    addBulk: (from, count) =>
      dispatcher.dispatchMany(
        Array.from({ length: count }, (_, k) => ({ job: noop, payload: { i: from + k } })),
      ),
    // On the SQL backends, the same plain count the peers get: the harness polls this every
    // 10 ms while workers run, and a heavier query would slow the contender it measures.
    async remaining() {
      if (ctx.backend === 'redis') {
        const [s] = await driver.sizes([queue]);
        return s.pending + s.delayed + s.reserved;
      }
      const [row] = await db.knex('jobs').count({ n: '*' });
      return Number(row.n);
    },
    async work({ concurrency, onStart }) {
      hook = onStart;
      const worker = await makeWorker(
        driver,
        [noop],
        { concurrency, queues: [queue], ...(prefetches(variant) ? { prefetch: PREFETCH } : {}) },
        load,
      );
      worker.on('worker:error', ({ error }) => console.error('jobsmith worker:', error));
      const history = attach?.(worker, {
        knex: db.knex,
        connection: driver.connection,
        registry: new JobRegistry([noop]),
        queues: [queue],
      });
      const running = worker.run();
      return {
        async stop() {
          worker.stop();
          await running;
          await history?.close();
        },
      };
    },
    async close() {
      await connections.close();
      await db.knex.destroy();
    },
  };
}

/** Settings that shape the numbers, for the results file. */
export function settings(ctx, variant) {
  return {
    driver: ctx.backend === 'redis' ? 'redis' : 'database',
    worker: `Worker (as run queue:work builds it), sleep 1s, lease 60s, logging off${prefetches(variant) ? `, prefetch ${PREFETCH}` : ''}${variant === 'history' ? ', every success kept in job_history (retain.succeeded)' : ''}`,
    enqueue:
      'Dispatcher.dispatch (one awaited call a job); dispatchMany, 1,000 a call (one transaction)',
  };
}
