// The overhead of jobsmith's redis driver and worker over a raw BullMQ Worker, on the same Redis:
// throughput draining a prefilled queue with a no-op handler, and pickup latency (dispatch call
// to handler start) into an idle worker, at the same concurrency. Targets (issue 4): at least
// 0.9x the raw throughput, and a p50 pickup within 1 ms of raw.
//
//   npm run build && node bench/redis-overhead.mjs --jobs 20000 --concurrency 1,10 --rounds 3
//
// Raw and jobsmith rounds alternate, so a burst of load on the machine hits both alike. Each
// round uses a fresh key prefix, deleted afterwards. BullMQ and ioredis are jobsmith's own
// (the root node_modules), so both sides run the same BullMQ version.
//
// `--dist DIR` runs another build than ./dist as jobsmith; `--baseline DIR` adds one more as a
// third side in the same rotation: a before/after of jobsmith under the same load, which a
// shared machine makes noisy from run to run. Build one with
// `npx tsc -p tsconfig.build.json --outDir DIR` (outside the checkout, DIR's parent needs a
// node_modules link to ours).
//
// `--commands` instead counts what Redis runs per job while each side drains (INFO commandstats
// and Redis's CPU, before and after): steady under load, unlike the timings. EVALSHA is one per
// script call (a round trip); commands a script runs count too. The server is shared: run it
// while nothing else uses Redis.
import { randomBytes } from 'node:crypto';
import { jobsmithAt, makeWorker, percentile, REDIS_URL, requireFromRoot } from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const JOBS = Number(args.get('jobs') ?? 20_000);
const CONCURRENCY = String(args.get('concurrency') ?? '1,10')
  .split(',')
  .map(Number);
const ROUNDS = Number(args.get('rounds') ?? 3);
const SAMPLES = Number(args.get('samples') ?? 300);
const BASELINE = args.get('baseline');
const COMMANDS = process.argv.includes('--commands');

const { Queue, Worker } = requireFromRoot('bullmq');
const { Redis } = requireFromRoot('ioredis');

const newPrefix = () => `jsbench-overhead:${randomBytes(4).toString('hex')}`;
const OPTS = { removeOnComplete: true, removeOnFail: true };
const connect = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });

async function dropPrefix(prefix) {
  const redis = connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

/** Raw BullMQ: Queue.addBulk to fill, a Worker with a no-op processor to drain. */
const raw = {
  name: 'raw BullMQ Worker',
  async open(prefix, concurrency, onStart) {
    const connection = connect();
    const queue = new Queue('bench', { connection, prefix });
    const workerConnection = connect();
    const worker = new Worker('bench', async () => onStart(), {
      connection: workerConnection,
      prefix,
      concurrency,
      autorun: false,
    });
    worker.on('error', (e) => console.error('bullmq worker:', e.message));
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    let completed = 0;
    let onCompleted = () => {};
    worker.on('completed', () => onCompleted(++completed));
    return {
      async fill(n) {
        for (let i = 0; i < n; i += 1000) {
          const count = Math.min(1000, n - i);
          await queue.addBulk(
            Array.from({ length: count }, () => ({ name: 'noop', data: {}, opts: OPTS })),
          );
        }
      },
      push: () => queue.add('noop', {}, OPTS),
      async drain(n) {
        const done = new Promise((resolve) => (onCompleted = (c) => c >= n && resolve()));
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        void worker.run();
        await done;
        return { ms: performance.now() - t0, cpu: process.cpuUsage(cpu) };
      },
      start: () => void worker.run(),
      async close() {
        await worker.close();
        await queue.close();
        workerConnection.disconnect();
        connection.disconnect();
      },
    };
  },
};

/** jobsmith: RedisQueue.push to fill, the Worker `run queue:work` builds, to drain. */
const jobsmithSide = async (distDir) => {
  const load = jobsmithAt(distDir);
  const { RedisQueue } = await load('queue/redis/redis-queue.js');
  const { defineJob } = await load('jobs/define.js');
  return { open: (...a) => openOurs(load, RedisQueue, defineJob, ...a) };
};

async function openOurs(load, RedisQueue, defineJob, prefix, concurrency, onStart) {
  {
    const knex = async () => {
      throw new Error('no failures in this benchmark');
    };
    const producer = new RedisQueue({ url: REDIS_URL, prefix, knex });
    const driver = new RedisQueue({ url: REDIS_URL, prefix, knex });
    await Promise.all([producer.connect(), driver.connect()]);
    const noop = defineJob({ name: 'noop', tries: 1, handle: () => onStart() });
    // A long idle sleep: only Redis's markers can make pickup fast, as for BullMQ.
    const worker = await makeWorker(
      driver,
      [noop],
      { concurrency, sleepMs: 10_000, leaseMs: 30_000 },
      load,
    );
    let processed = 0;
    let onProcessed = () => {};
    worker.on('job:processed', () => onProcessed(++processed));
    const row = {
      name: 'noop',
      queue: 'default',
      payload: '{}',
      priority: 0,
      maxTries: 1,
      delayMs: 0,
    };
    let running;
    return {
      async fill(n) {
        for (let i = 0; i < n; i += 1000) {
          await producer.push(Array.from({ length: Math.min(1000, n - i) }, () => row));
        }
      },
      push: () => producer.push([row]),
      async drain(n) {
        const done = new Promise((resolve) => (onProcessed = (c) => c >= n && resolve()));
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        running = worker.run();
        await done;
        return { ms: performance.now() - t0, cpu: process.cpuUsage(cpu) };
      },
      start: () => void (running = worker.run()),
      async close() {
        worker.stop();
        await running;
        await driver.close();
        await producer.close();
      },
    };
  }
}

const ours = await jobsmithSide(args.get('dist')); // default: this checkout's dist/
const base = BASELINE ? await jobsmithSide(BASELINE) : undefined;
const sides = [['raw', raw], ['ours', ours], ...(base ? [['base', base]] : [])];

async function throughput(side, concurrency) {
  const prefix = newPrefix();
  const s = await side.open(prefix, concurrency, () => {});
  try {
    await s.fill(JOBS);
    const { ms, cpu } = await s.drain(JOBS);
    // Jobs per second, and this process's CPU per job (µs): the worker side, Redis excluded.
    return { rate: (JOBS / ms) * 1000, cpu: (cpu.user + cpu.system) / JOBS };
  } finally {
    await s.close();
    await dropPrefix(prefix);
  }
}

async function pickup(side, concurrency) {
  const prefix = newPrefix();
  let started;
  const s = await side.open(prefix, concurrency, () => started?.(performance.now()));
  const latencies = [];
  try {
    s.start();
    await new Promise((r) => setTimeout(r, 200)); // the worker is idle, blocked on the markers
    for (let i = 0; i < SAMPLES; i++) {
      const handled = new Promise((resolve) => (started = resolve));
      const t0 = performance.now();
      await s.push();
      latencies.push((await handled) - t0);
      await new Promise((r) => setTimeout(r, 5)); // let the worker go idle again
    }
  } finally {
    await s.close();
    await dropPrefix(prefix);
  }
  return latencies;
}

/** Redis's calls per command and CPU (µs), server-wide. */
async function redisStats(redis) {
  const calls = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm))
    calls[m[1]] = Number(m[2]);
  const cpu = await redis.info('cpu');
  const sec = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)[1]);
  return { calls, cpuUs: (sec('used_cpu_user') + sec('used_cpu_sys')) * 1e6 };
}

async function commandsPerJob(side, concurrency) {
  const prefix = newPrefix();
  const admin = connect();
  const s = await side.open(prefix, concurrency, () => {});
  try {
    await s.fill(JOBS);
    const before = await redisStats(admin);
    await s.drain(JOBS);
    const after = await redisStats(admin);
    const perJob = Object.entries(after.calls)
      .map(([name, n]) => [name, (n - (before.calls[name] ?? 0)) / JOBS])
      .filter(([name, n]) => n >= 0.01 && name !== 'info')
      .sort((a, b) => b[1] - a[1]);
    const total = perJob.reduce((sum, [, n]) => sum + n, 0);
    const list = perJob.map(([name, n]) => `${name} ${f2(n)}`).join(', ');
    return `${f2(total)} | ${f1((after.cpuUs - before.cpuUs) / JOBS)} | ${list}`;
  } finally {
    await s.close();
    admin.disconnect();
    await dropPrefix(prefix);
  }
}

const med = (xs) => percentile(xs, 50);
const f1 = (x) => x.toFixed(0);
const f2 = (x) => x.toFixed(2);

if (COMMANDS) {
  console.log(`Redis ${REDIS_URL}, ${JOBS} jobs per drain: what Redis runs per job\n`);
  console.log('| concurrency | side | calls/job | Redis CPU µs/job | calls/job by command |');
  console.log('|---:|---|---:|---:|---|');
  for (const c of CONCURRENCY)
    for (const [key, side] of sides)
      console.log(`| ${c} | ${key} | ${await commandsPerJob(side, c)} |`);
  process.exit(0);
}

console.log(
  `Redis ${REDIS_URL}, ${JOBS} jobs per drain, ${ROUNDS} rounds, ${SAMPLES} pickup samples\n`,
);
console.log(
  '| concurrency | raw BullMQ jobs/s | jobsmith jobs/s | ratio | raw CPU µs/job | jobsmith CPU µs/job | raw p50 pickup | jobsmith p50 pickup | Δ p50 | raw p95 | jobsmith p95 |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const c of CONCURRENCY) {
  const rates = { raw: [], ours: [], base: [] };
  const cpus = { raw: [], ours: [], base: [] };
  const lat = { raw: [], ours: [], base: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate which side goes first, so neither always gets the warmer cache.
    const order = sides.map((_, i) => sides[(i + r) % sides.length]);
    for (const [key, side] of order) {
      const { rate, cpu } = await throughput(side, c);
      rates[key].push(rate);
      cpus[key].push(cpu);
    }
    for (const [key, side] of order) lat[key].push(...(await pickup(side, c)));
  }
  const rr = med(rates.raw);
  for (const key of base ? ['ours', 'base'] : ['ours']) {
    const ro = med(rates[key]);
    // Each round's ratio pairs runs made seconds apart: steadier than the medians' ratio when
    // the load on the machine comes and goes.
    const paired = med(rates[key].map((x, i) => x / rates.raw[i]));
    console.log(
      `| ${c}${key === 'base' ? ' (baseline)' : ''} | ${f1(rr)} | ${f1(ro)} | ${f2(ro / rr)}× (paired ${f2(paired)}×) | ` +
        `${f1(med(cpus.raw))} | ${f1(med(cpus[key]))} | ${f2(med(lat.raw))} ms | ${f2(med(lat[key]))} ms | ` +
        `${f2(med(lat[key]) - med(lat.raw))} ms | ${f2(percentile(lat.raw, 95))} ms | ${f2(percentile(lat[key], 95))} ms |`,
    );
  }
  const list = (key) => rates[key].map(f1).join(', ');
  console.log(
    `<!-- c=${c} rounds: raw ${list('raw')}; jobsmith ${list('ours')}${base ? `; baseline ${list('base')}` : ''} -->`,
  );
}
