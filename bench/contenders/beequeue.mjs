// bee-queue on Redis (node-redis 3), historically the fastest Node.js Redis queue. The worker
// queue uses its defaults plus removeOnSuccess (as in bee-queue's own benchmark); the producer
// queue is set up as its README advises for a queue that only creates jobs.
import { createRequire } from 'node:module';
import BeeQueue from 'bee-queue';
import { REDIS_URL } from '../lib.mjs';

const require = createRequire(import.meta.url);
export const peer = { name: 'bee-queue', version: require('bee-queue/package.json').version };

const PRODUCER = { isWorker: false, getEvents: false, sendEvents: false, storeJobs: false };

function queue(ctx, options) {
  return new BeeQueue(ctx.queue, {
    prefix: ctx.prefix,
    redis: { url: REDIS_URL },
    removeOnSuccess: true,
    removeOnFailure: true,
    ...options,
  });
}

export async function prepare(base) {
  return { ...base, prefix: `jsbench:${base.runId}:bq`, queue: 'bench' };
}

export async function destroy(ctx) {
  const q = queue(ctx, PRODUCER);
  await q.ready();
  await q.destroy();
  await q.close();
}

export async function open(ctx) {
  const producer = queue(ctx, PRODUCER);
  await producer.ready();
  const job = (i) => producer.createJob({ i });
  return {
    async reset() {
      await producer.destroy();
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) {
        const jobs = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push(job(j));
        await producer.saveAll(jobs);
      }
    },
    add: (i) => job(i).save(),
    addBulk: (from, count) =>
      producer.saveAll(Array.from({ length: count }, (_, k) => job(from + k))),
    async remaining() {
      const h = await producer.checkHealth();
      return h.waiting + h.active + h.delayed;
    },
    async work({ concurrency, onStart }) {
      const worker = queue(ctx, {});
      worker.on('error', (error) => console.error('bee-queue worker:', error.message));
      await worker.ready();
      worker.process(concurrency, async () => onStart());
      return { stop: () => worker.close(5000) };
    },
    async close() {
      await producer.close();
    },
  };
}

export function settings() {
  return {
    worker: 'process(C) on a queue with defaults + removeOnSuccess, removeOnFailure',
    producer: 'isWorker, getEvents, sendEvents, storeJobs off',
    enqueue: 'createJob().save() (one awaited); saveAll, 1,000 a call',
  };
}
