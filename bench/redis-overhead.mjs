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
import { randomBytes } from 'node:crypto';
import { jobsmith, makeWorker, percentile, REDIS_URL, requireFromRoot } from './lib.mjs';

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

const { Queue, Worker } = requireFromRoot('bullmq');
const { Redis } = requireFromRoot('ioredis');
const { RedisQueue } = await jobsmith('queue/redis/redis-queue.js');
const { defineJob } = await jobsmith('jobs/define.js');

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
const ours = {
  name: 'jobsmith Worker (redis)',
  async open(prefix, concurrency, onStart) {
    const knex = async () => {
      throw new Error('no failures in this benchmark');
    };
    const producer = new RedisQueue({ url: REDIS_URL, prefix, knex });
    const driver = new RedisQueue({ url: REDIS_URL, prefix, knex });
    await Promise.all([producer.connect(), driver.connect()]);
    const noop = defineJob({ name: 'noop', tries: 1, handle: () => onStart() });
    // A long idle sleep: only Redis's markers can make pickup fast, as for BullMQ.
    const worker = await makeWorker(driver, [noop], {
      concurrency,
      sleepMs: 10_000,
      leaseMs: 30_000,
    });
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
  },
};

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

const med = (xs) => percentile(xs, 50);
const f1 = (x) => x.toFixed(0);
const f2 = (x) => x.toFixed(2);

console.log(
  `Redis ${REDIS_URL}, ${JOBS} jobs per drain, ${ROUNDS} rounds, ${SAMPLES} pickup samples\n`,
);
console.log(
  '| concurrency | raw BullMQ jobs/s | jobsmith jobs/s | ratio | raw CPU µs/job | jobsmith CPU µs/job | raw p50 pickup | jobsmith p50 pickup | Δ p50 | raw p95 | jobsmith p95 |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const c of CONCURRENCY) {
  const rates = { raw: [], ours: [] };
  const cpus = { raw: [], ours: [] };
  const lat = { raw: [], ours: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which side goes first, so neither always gets the warmer cache.
    const order =
      r % 2
        ? [
            ['ours', ours],
            ['raw', raw],
          ]
        : [
            ['raw', raw],
            ['ours', ours],
          ];
    for (const [key, side] of order) {
      const { rate, cpu } = await throughput(side, c);
      rates[key].push(rate);
      cpus[key].push(cpu);
    }
    for (const [key, side] of order) lat[key].push(...(await pickup(side, c)));
  }
  const rr = med(rates.raw);
  const ro = med(rates.ours);
  console.log(
    `| ${c} | ${f1(rr)} | ${f1(ro)} | ${f2(ro / rr)}× | ${f1(med(cpus.raw))} | ${f1(med(cpus.ours))} | ` +
      `${f2(med(lat.raw))} ms | ${f2(med(lat.ours))} ms | ` +
      `${f2(med(lat.ours) - med(lat.raw))} ms | ${f2(percentile(lat.raw, 95))} ms | ${f2(percentile(lat.ours, 95))} ms |`,
  );
  console.log(
    `<!-- c=${c} rounds: raw ${rates.raw.map(f1).join(', ')}; jobsmith ${rates.ours.map(f1).join(', ')} -->`,
  );
}
