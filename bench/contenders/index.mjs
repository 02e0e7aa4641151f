// Who runs against whom, per backend. A contender is a module (contenders/*.mjs) and a variant.
// `skip` lists workloads a contender sits out, with the reason kept in the results.
import { hasRedisDriver, PREFETCH } from './jobsmith.mjs';

/** jobsmith with claim-ahead: compared with the peers' batching settings. */
const prefetch = (extraSkip = {}) => ({
  id: 'jobsmith-prefetch',
  module: 'jobsmith',
  variant: 'prefetch',
  label: `jobsmith (prefetch ${PREFETCH})`,
  skip: {
    enqueue: 'same enqueue path as jobsmith',
    pickup: 'prefetch only matters under load',
    ...extraSkip,
  },
});

/** An older jobsmith build, when BENCH_BASELINE_DIST names its dist/: before/after in one run. */
const baseline = () =>
  process.env.BENCH_BASELINE_DIST
    ? [
        {
          id: 'jobsmith-baseline',
          module: 'jobsmith',
          variant: 'baseline',
          label: `jobsmith (${process.env.BENCH_BASELINE_LABEL ?? 'baseline build'})`,
        },
      ]
    : [];

/** jobsmith keeping every success in job_history (BENCH_HISTORY=1): the cost of history on. */
const history = () =>
  process.env.BENCH_HISTORY === '1'
    ? [
        {
          id: 'jobsmith-history',
          module: 'jobsmith',
          variant: 'history',
          label: 'jobsmith (retain.succeeded)',
          skip: { enqueue: 'same enqueue path as jobsmith' },
        },
      ]
    : [];

const PG_BOSS_SLOW =
  'pg-boss fetches batchSize jobs per polling interval, so 100,000 jobs would take hours';

export function contenders(backend) {
  if (backend === 'pgsql') {
    return [
      { id: 'jobsmith', module: 'jobsmith', label: 'jobsmith' },
      prefetch(),
      ...baseline(),
      ...history(),
      { id: 'graphile', module: 'graphile', variant: 'default', label: 'graphile-worker' },
      {
        id: 'graphile-perf',
        module: 'graphile',
        variant: 'perf',
        label: 'graphile-worker (perf settings)',
        vs: 'jobsmith-prefetch',
        skip: { enqueue: 'same enqueue path as graphile-worker defaults' },
      },
      {
        id: 'pgboss',
        module: 'pgboss',
        variant: 'default',
        label: 'pg-boss',
        poller: true,
        skip: { memory: PG_BOSS_SLOW, scaling: 'one job per 2 s per work() call, by design' },
      },
      {
        id: 'pgboss-tuned',
        module: 'pgboss',
        variant: 'tuned',
        label: 'pg-boss (tuned)',
        poller: true,
        skip: { enqueue: 'same enqueue path as pg-boss defaults', memory: PG_BOSS_SLOW },
      },
    ];
  }
  if (backend === 'sqlite') {
    return [
      { id: 'jobsmith', module: 'jobsmith', label: 'jobsmith' },
      prefetch(),
      ...baseline(),
      ...history(),
      {
        id: 'raw',
        module: 'sqlite-raw',
        variant: 'single',
        label: 'raw loop, 1 job a transaction',
      },
      {
        id: 'raw-batch',
        module: 'sqlite-raw',
        variant: 'batch',
        label: 'raw loop, 100 jobs a transaction',
        vs: 'jobsmith-prefetch',
        skip: { enqueue: 'same insert path as the raw loop', pickup: 'same as the raw loop' },
      },
    ];
  }
  const list = [
    { id: 'bullmq', module: 'bullmq', label: 'BullMQ (raw Worker)' },
    { id: 'bee-queue', module: 'beequeue', label: 'bee-queue' },
  ];
  if (hasRedisDriver())
    list.unshift(
      { id: 'jobsmith', module: 'jobsmith', label: 'jobsmith' },
      prefetch(),
      ...baseline(),
      ...history(),
    );
  return list;
}

export const loadModule = (name) => import(new URL(`./${name}.mjs`, import.meta.url).href);
