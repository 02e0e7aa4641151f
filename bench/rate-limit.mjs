#!/usr/bin/env node
// The `rate-limit` workload: how close jobsmith's keyed rate limits come to the configured rate,
// whether they ever pass it, and what a limited job costs against an unlimited one, on each
// backend; next to BullMQ's own limiter (`limiter: { max, duration }`) on the same Redis.
//
//   npm run build && node bench/rate-limit.mjs [--backend sqlite,pgsql,redis] [--rate 100]
//     [--jobs 500] [--drain 5000] [--concurrency 10] [--rounds 3] [--out DIR]
//
// Per round and side:
// - achieved: `--jobs` jobs waiting on one key limited to `--rate` a second (burst 0), drained
//   by one worker at `--concurrency`. Achieved rate: starts per whole second from the first start
//   (achieved()); the most starts in any sliding one-second window says whether it passed the
//   limit (a fixed-window limiter can start up to twice its limit across a window boundary).
// - cost: `--drain` jobs drained with no limit, then the same with a limit so wide that it never
//   refuses (a million a second, a burst of a million): what taking a token costs a job.
// BullMQ has no per-key limit outside its paid Pro edition, so it is measured on one key only.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_DIR,
  createPgDatabase,
  deleteRedisKeys,
  dropPgDatabase,
  epoch,
  jobsmith,
  makeWorker,
  median,
  REDIS_URL,
  requireFromRoot,
  ROOT_DIR,
} from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const BACKENDS = String(args.get('backend') ?? 'sqlite,pgsql,redis').split(',');
const RATE = Number(args.get('rate') ?? 100);
const JOBS = Number(args.get('jobs') ?? 500);
const DRAIN = Number(args.get('drain') ?? 5000);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const ROUNDS = Number(args.get('rounds') ?? 3);
const OUT = args.get('out') ?? join(BENCH_DIR, 'results');

/** The most starts in any window of `ms` milliseconds (half-open, as a limit counts them). */
function busiestWindow(starts, ms = 1000) {
  const s = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i] - s[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * The sustained rate: the mean number of starts per whole second, over the whole seconds from
 * the first start to the last. Counting whole windows is fair to a fixed-window limiter
 * (BullMQ's), which starts each window's jobs in one burst, as well as to a smoothing one.
 */
function achieved(starts) {
  const s = [...starts].sort((a, b) => a - b);
  const windows = Math.floor((s.at(-1) - s[0]) / 1000);
  const inWindows = s.filter((t) => t < s[0] + windows * 1000).length;
  const rate = windows > 0 ? inWindows / windows : NaN;
  return { rate, ratio: rate / RATE, busiest: busiestWindow(s) };
}

/** Resolves when `n` calls of the returned `tick` have happened. */
function counter(n) {
  let left = n;
  let done;
  const finished = new Promise((r) => (done = r));
  return {
    finished,
    tick() {
      if (--left === 0) done();
    },
  };
}

// ---- jobsmith ------------------------------------------------------------------------------

async function jobsmithSide(backend) {
  const runId = randomBytes(4).toString('hex');
  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  const { migrateLatest } = await jobsmith('db/migrate.js');
  const { defineJob, rateLimited } = await jobsmith('index.js');
  const { QueueConnections } = await jobsmith('queue/connections.js');
  const { JobRegistry } = await jobsmith('jobs/registry.js');
  const { Dispatcher } = await jobsmith('queue/dispatcher.js');
  const { flowControl } = await jobsmith('flow/control.js');

  const vars = {
    LOG_LEVEL: 'silent',
    QUEUE_CONNECTION: backend === 'redis' ? 'redis' : 'database',
  };
  let dir;
  let dbName;
  const prefix = `jsbench:${runId}:rl`;
  if (backend === 'pgsql') {
    dbName = `jobsmith_bench_rl_${runId}`;
    Object.assign(vars, { DB_CONNECTION: 'pgsql', DATABASE_URL: await createPgDatabase(dbName) });
  } else {
    dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-rl-'));
    Object.assign(vars, { DB_CONNECTION: 'sqlite', DB_DATABASE: join(dir, 'jobsmith.sqlite') });
  }
  if (backend === 'redis') Object.assign(vars, { REDIS_URL, REDIS_PREFIX: prefix });
  const env = parseEnv(vars);
  const db = await openDatabase(env, ROOT_DIR);
  await migrateLatest(db);

  let hook = () => {};
  const rules = new Map([
    ['bench', { name: 'bench', limit: RATE, perMs: 1000, burst: 0 }],
    // Never refuses at these rates (a burst of a million), so it measures the take alone.
    ['wide', { name: 'wide', limit: 1_000_000, perMs: 1000, burst: 1_000_000 }],
  ]);
  const limited = defineJob({
    name: 'limited',
    middleware: [rateLimited('bench')],
    handle: () => hook(),
  });
  const wide = defineJob({ name: 'wide', middleware: [rateLimited('wide')], handle: () => hook() });
  const plain = defineJob({ name: 'plain', handle: () => hook() });
  const jobs = [limited, wide, plain];
  const connections = new QueueConnections({
    env,
    cwd: ROOT_DIR,
    db: async () => db,
    registry: async () => new JobRegistry(jobs),
  });
  const driver = await connections.get();
  const dispatcher = new Dispatcher(async () => driver);

  async function drain(job, n) {
    for (let i = 0; i < n; i += 1000) {
      const items = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) items.push({ job, payload: { i: j } });
      await dispatcher.dispatchMany(items);
    }
    const starts = [];
    const count = counter(n);
    hook = () => {
      starts.push(epoch());
      count.tick();
    };
    const flow = flowControl(driver, rules, () => {});
    const worker = await makeWorker(
      driver,
      jobs,
      { concurrency: CONCURRENCY, queues: ['default'] },
      jobsmith,
      { flow },
    );
    worker.on('worker:error', ({ error }) => console.error('jobsmith worker:', error.message));
    const began = epoch();
    const running = worker.run();
    await count.finished;
    const ms = epoch() - began;
    worker.stop();
    await running;
    await flow.store.rateLimits.reset('bench');
    return { starts, perSecond: (n / ms) * 1000 };
  }

  return {
    name: `jobsmith (${backend})`,
    limited: async () => achieved((await drain(limited, JOBS)).starts),
    cost: async () => ({
      plain: (await drain(plain, DRAIN)).perSecond,
      limited: (await drain(wide, DRAIN)).perSecond,
    }),
    async close() {
      await connections.close();
      await db.knex.destroy();
      if (backend === 'redis') await deleteRedisKeys(`${prefix}:*`);
      if (dbName) await dropPgDatabase(dbName);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- BullMQ --------------------------------------------------------------------------------

async function bullmqSide() {
  const { Queue, Worker } = requireFromRoot('bullmq');
  const { Redis } = requireFromRoot('ioredis');
  const prefix = `jsbench:${randomBytes(4).toString('hex')}:bullrl`;
  const connect = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const connection = connect();
  const queue = new Queue('bench', { connection, prefix });
  const OPTS = { removeOnComplete: true, removeOnFail: true };

  async function drain(n, limiter) {
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
          name: 'noop',
          data: { i: i + k },
          opts: OPTS,
        })),
      );
    }
    const starts = [];
    const count = counter(n);
    const workerConnection = connect();
    const began = epoch();
    const worker = new Worker(
      'bench',
      async () => {
        starts.push(epoch());
        count.tick();
      },
      {
        connection: workerConnection,
        prefix,
        concurrency: CONCURRENCY,
        ...(limiter && { limiter }),
      },
    );
    worker.on('error', (error) => console.error('bullmq worker:', error.message));
    await count.finished;
    const ms = epoch() - began;
    await worker.close();
    workerConnection.disconnect();
    return { starts, perSecond: (n / ms) * 1000 };
  }

  return {
    name: 'BullMQ limiter (redis)',
    limited: async () => achieved((await drain(JOBS, { max: RATE, duration: 1000 })).starts),
    cost: async () => ({
      plain: (await drain(DRAIN)).perSecond,
      limited: (await drain(DRAIN, { max: 1e9, duration: 1000 })).perSecond,
    }),
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
      await deleteRedisKeys(`${prefix}:*`);
    },
  };
}

// ---- main ----------------------------------------------------------------------------------

const sides = [];
for (const backend of BACKENDS) sides.push(await jobsmithSide(backend));
if (BACKENDS.includes('redis')) sides.push(await bullmqSide());

const results = sides.map((s) => ({ name: s.name, limited: [], cost: [] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, side] of sides.entries()) {
    results[i].limited.push(await side.limited());
    results[i].cost.push(await side.cost());
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${side.name} done\n`);
  }
}
for (const side of sides) await side.close();

const rows = results.map((r) => {
  const ratio = median(r.limited.map((l) => l.ratio));
  const busiest = Math.max(...r.limited.map((l) => l.busiest));
  const plain = median(r.cost.map((c) => c.plain));
  const limited = median(r.cost.map((c) => c.limited));
  return { name: r.name, ratio, busiest, plain, limited, cost: limited / plain };
});
const table = [
  `Rate limit ${RATE}/s on one key, ${JOBS} jobs, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds; cost: ${DRAIN} jobs drained.`,
  '',
  '| side | achieved / limit | most starts in any 1 s | unlimited jobs/s | limited jobs/s | limited / unlimited |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.ratio.toFixed(3)}× | ${r.busiest} (limit ${RATE}) | ${Math.round(r.plain)} | ${Math.round(r.limited)} | ${r.cost.toFixed(2)}× |`,
  ),
].join('\n');
console.log(table);
mkdirSync(OUT, { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
writeFileSync(
  join(OUT, `${stamp}-rate-limit.json`),
  JSON.stringify(
    { rate: RATE, jobs: JOBS, drain: DRAIN, concurrency: CONCURRENCY, results },
    null,
    2,
  ),
);
writeFileSync(join(OUT, `${stamp}-rate-limit.md`), `${table}\n`);
