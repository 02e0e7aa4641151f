// graphile-worker 0.17 through its library API: run() with a task list, makeWorkerUtils() to
// add jobs. Two variants: its defaults (at the benchmark's concurrency), and the performance
// settings of its own perfTest (website/docs/performance.md): a local queue of 500 jobs and
// completion/failure batching with no delay.
import { createRequire } from 'node:module';
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import { createPgDatabase, dropPgDatabase, pgCounter, withPg } from '../lib.mjs';

const require = createRequire(import.meta.url);
export const peer = {
  name: 'graphile-worker',
  version: require('graphile-worker/package.json').version,
};

const silent = new Logger(() => () => {});
const TABLE = 'graphile_worker._private_jobs';

/** What the `perf` variant changes; everything else stays at graphile-worker's defaults. */
const PERF = (concurrency) => ({
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
  maxPoolSize: Math.max(10, concurrency + 1),
});

export async function prepare(base) {
  const dbName = `graphile_bench_${base.runId}`;
  const url = await createPgDatabase(dbName);
  await runMigrations({ connectionString: url, logger: silent });
  return { ...base, dbName, url };
}

export async function destroy(ctx) {
  await dropPgDatabase(ctx.dbName);
}

export async function open(ctx, variant) {
  const utils = await makeWorkerUtils({ connectionString: ctx.url, logger: silent });
  const counter = pgCounter(ctx.url);
  const spec = (i) => ({ identifier: 'noop', payload: { i } });
  return {
    async reset() {
      await withPg(ctx.url, (c) =>
        c.query(`truncate ${TABLE}, graphile_worker._private_job_queues restart identity cascade`),
      );
    },
    async insert(n) {
      for (let i = 0; i < n; i += 1000) {
        const specs = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) specs.push(spec(j));
        await utils.addJobs(specs);
      }
      await withPg(ctx.url, (c) => c.query(`analyze ${TABLE}`));
    },
    add: (i) => utils.addJob('noop', { i }),
    addBulk: (from, count) =>
      utils.addJobs(Array.from({ length: count }, (_, k) => spec(from + k))),
    async remaining() {
      return counter.count(`select count(*) as n from ${TABLE}`);
    },
    async work({ concurrency, onStart }) {
      const runner = await run({
        connectionString: ctx.url,
        concurrency,
        noHandleSignals: true,
        logger: silent,
        taskList: { noop: async () => onStart() },
        ...(variant === 'perf' ? { preset: { worker: PERF(concurrency) } } : {}),
      });
      return { stop: () => runner.stop() };
    },
    async close() {
      await utils.release();
      await counter.close();
    },
  };
}

export function settings(_ctx, variant) {
  return variant === 'perf'
    ? {
        perf: 'perfTest settings: localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0, maxPoolSize max(10, C + 1)',
      }
    : {
        note: 'defaults (pollInterval 2s with LISTEN/NOTIFY, no local queue, completion batch delay -1)',
      };
}
