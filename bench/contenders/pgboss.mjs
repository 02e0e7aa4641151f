// pg-boss 10 through its API: send()/insert() to add, work() to process. pg-boss polls: one
// work() fetches `batchSize` jobs (default 1) and then waits out the rest of its polling
// interval (default 2 s) before fetching again, so its throughput is about
// batchSize × work() calls ÷ interval. Two variants at the benchmark's concurrency C:
//   default  C work() calls with the defaults (batchSize 1, pollingIntervalSeconds 2)
//   tuned    one work() with batchSize C and the minimum interval, 0.5 s, handling its batch
//            concurrently (the tuning in shared/reference/performance.md §4)
import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import { createPgDatabase, dropPgDatabase, pgCounter, withPg } from '../lib.mjs';

const require = createRequire(import.meta.url);
export const peer = { name: 'pg-boss', version: require('pg-boss/package.json').version };

const QUEUE = 'bench';

async function start(url) {
  const boss = new PgBoss({ connectionString: url });
  boss.on('error', (error) => console.error('pg-boss:', error.message));
  await boss.start();
  return boss;
}

export async function prepare(base) {
  const dbName = `pgboss_bench_${base.runId}`;
  const url = await createPgDatabase(dbName);
  const boss = await start(url);
  await boss.createQueue(QUEUE);
  await boss.stop({ graceful: false, wait: true });
  return { ...base, dbName, url };
}

export async function destroy(ctx) {
  await dropPgDatabase(ctx.dbName);
}

export async function open(ctx, variant) {
  const boss = await start(ctx.url);
  const counter = pgCounter(ctx.url);
  const job = (i) => ({ name: QUEUE, data: { i } });
  return {
    async reset() {
      await withPg(ctx.url, (c) => c.query('truncate pgboss.job, pgboss.archive'));
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) {
        const jobs = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push(job(j));
        await boss.insert(jobs);
      }
      await withPg(ctx.url, (c) => c.query('analyze pgboss.job'));
    },
    add: (i) => boss.send(QUEUE, { i }),
    addBulk: (from, count) => boss.insert(Array.from({ length: count }, (_, k) => job(from + k))),
    remaining: () =>
      counter.count(
        `select count(*) as n from pgboss.job where name = $1 and state < 'completed'`,
        [QUEUE],
      ),
    async work({ concurrency, onStart }) {
      if (variant === 'tuned') {
        await boss.work(
          QUEUE,
          { batchSize: concurrency, pollingIntervalSeconds: 0.5 },
          async (jobs) => {
            await Promise.all(jobs.map(async () => onStart()));
          },
        );
      } else {
        for (let k = 0; k < concurrency; k++) {
          await boss.work(QUEUE, async () => {
            onStart();
          });
        }
      }
      return { stop: () => boss.offWork(QUEUE) };
    },
    async close() {
      await boss.stop({ graceful: false, wait: true });
      await counter.close();
    },
  };
}

export function settings(_ctx, variant) {
  return variant === 'tuned'
    ? { work: 'one work() per process, batchSize C, pollingIntervalSeconds 0.5' }
    : { work: 'C work() calls per process, defaults (batchSize 1, pollingIntervalSeconds 2)' };
}
