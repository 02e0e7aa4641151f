// A raw BullMQ Queue/Worker on Redis: the floor under jobsmith's redis driver, which is built on
// BullMQ. Jobs are added with removeOnComplete (as jobsmith deletes finished jobs), the Worker
// runs at the benchmark's concurrency; everything else is BullMQ's defaults. ioredis
// auto-pipelining stays off (its default).
import { createRequire } from 'node:module';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { REDIS_URL } from '../lib.mjs';

const require = createRequire(import.meta.url);
export const peer = { name: 'bullmq', version: require('bullmq/package.json').version };

const OPTS = { removeOnComplete: true, removeOnFail: true };
const connect = () => new IORedis(REDIS_URL, { maxRetriesPerRequest: null });

export async function prepare(base) {
  // Our own prefix: the Redis server is shared with other test runs, never FLUSHDB it.
  return { ...base, prefix: `jsbench:${base.runId}:bullmq`, queue: 'bench' };
}

export async function destroy(ctx) {
  const connection = connect();
  const queue = new Queue(ctx.queue, { connection, prefix: ctx.prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
}

export async function open(ctx) {
  const connection = connect();
  const queue = new Queue(ctx.queue, { connection, prefix: ctx.prefix });
  const job = (i) => ({ name: 'noop', data: { i }, opts: OPTS });
  return {
    async reset() {
      await queue.obliterate({ force: true });
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) {
        const jobs = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push(job(j));
        await queue.addBulk(jobs);
      }
    },
    add: (i) => queue.add('noop', { i }, OPTS),
    addBulk: (from, count) => queue.addBulk(Array.from({ length: count }, (_, k) => job(from + k))),
    async remaining() {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async work({ concurrency, onStart }) {
      const workerConnection = connect();
      const worker = new Worker(ctx.queue, async () => onStart(), {
        connection: workerConnection,
        prefix: ctx.prefix,
        concurrency,
      });
      worker.on('error', (error) => console.error('bullmq worker:', error.message));
      await worker.waitUntilReady();
      return {
        async stop() {
          await worker.close();
          workerConnection.disconnect();
        },
      };
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

export function settings() {
  return {
    jobs: 'removeOnComplete, removeOnFail',
    worker: 'Worker at concurrency C, defaults otherwise',
    enqueue: 'queue.add (one awaited); queue.addBulk, 1,000 a call',
  };
}
