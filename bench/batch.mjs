// What a batch costs (src/workflows/batches, issue 18): 10,000 no-op jobs dispatched as one
// batch (with a `then` callback) and worked to the end, against the same jobs dispatched
// without a batch, on each backend. Goal: the batch takes at most 1.3x the time.
//
//   npm run build && node bench/batch.mjs --backends sqlite,pgsql,redis --jobs 10000 --rounds 3
//   node bench/batch.mjs --out bench/results     # also writes <date>-batch.json and .md there
//
// A round dispatches the jobs (plain: dispatchMany, one push; batch: batch(steps).dispatch(),
// the batch's row and one push, in one transaction on PostgreSQL) and drains them with one
// worker (--concurrency 10, as `run queue:work` builds it, with the workflow services that
// record each batch job's outcome before its settle). The batch side's drain includes its
// `then` callback job. Rounds alternate plain/batch (and batch/plain the next round), so a burst
// of load on a shared machine hits both sides alike; each side's median and spread are reported.
// After each batch round the batch's row must read total = JOBS, pending 0, failed 0, finished,
// and its `then` must have run once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { jobsmith, makeWorker, openBenchBackend, summarize } from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const BACKENDS = String(args.get('backends') ?? 'sqlite,pgsql,redis').split(',');
const JOBS = Number(args.get('jobs') ?? 10_000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const OUT = args.get('out');
const GOAL = 1.3;

const { defineJob, batch, step } = await jobsmith('index.js');
const { Dispatcher } = await jobsmith('queue/dispatcher.js');
const { findBatch } = await jobsmith('workflows/batches/store.js');

const noop = defineJob({ name: 'noop', tries: 1, handle: async () => {} });
let thenRuns = 0;
const done = defineJob({
  name: 'batch.done',
  tries: 1,
  handle: async () => {
    thenRuns++;
  },
});

/** One side of a round: dispatch, then drain; times in ms. */
async function round(b, withBatch) {
  const dispatcher = new Dispatcher(async () => b.driver);
  const steps = Array.from({ length: JOBS }, () => step(noop, {}));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let batchId;
  if (withBatch) {
    const dispatched = await batch(steps)
      .name('bench')
      .then(step(done, {}))
      .dispatchTo({ db: b.db.knex, dispatcher, connection: undefined });
    batchId = dispatched.id;
  } else {
    await dispatcher.dispatchMany(steps.map((s) => ({ job: s.job, payload: s.payload })));
  }
  const t1 = performance.now();
  const worker = await makeWorker(
    b.driver,
    [noop, done],
    { concurrency: CONCURRENCY, stopWhenEmpty: true, sleepMs: 50 },
    jobsmith,
    { workflow: { db: async () => b.db.knex, dispatcher, connection: b.driver.connection } },
  );
  let processed = 0;
  let failed = 0;
  worker.on('job:processed', () => processed++);
  worker.on('job:failed', () => failed++);
  const thenBefore = thenRuns;
  await worker.run();
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const expected = JOBS + (withBatch ? 1 : 0);
  if (failed) throw new Error(`${failed} jobs failed`);
  if (processed !== expected) throw new Error(`processed ${processed} of ${expected}`);
  if (withBatch) {
    const row = await findBatch(b.db.knex, batchId);
    const ok =
      row.total === JOBS && row.pending === 0 && row.failed === 0 && row.finishedAt !== null;
    if (!ok) throw new Error(`batch ${batchId} ended ${JSON.stringify(row)}`);
    if (thenRuns - thenBefore !== 1) throw new Error(`then ran ${thenRuns - thenBefore} times`);
  }
  return {
    dispatchMs: t1 - t0,
    workMs: t2 - t1,
    totalMs: t2 - t0,
    cpuPerThousand: ((cpu.user + cpu.system) / 1000 / JOBS) * 1000,
  };
}

const load = [loadavg()[0]];
const results = [];
for (const backend of BACKENDS) {
  const b = await openBenchBackend(backend, 'batch', [noop, done]);
  try {
    await round(b, false); // warm-up: JIT, connections, the tables' first pages
    await round(b, true);
    const plain = [];
    const batched = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const withBatch of order) (withBatch ? batched : plain).push(await round(b, withBatch));
      load.push(loadavg()[0]);
    }
    const side = (xs) => ({
      dispatchMs: summarize(xs.map((x) => x.dispatchMs)),
      workMs: summarize(xs.map((x) => x.workMs)),
      totalMs: summarize(xs.map((x) => x.totalMs)),
      cpuPerThousand: summarize(xs.map((x) => x.cpuPerThousand)),
    });
    const p = side(plain);
    const q = side(batched);
    const ratio = q.totalMs.median / p.totalMs.median;
    const perJobUs = ((q.totalMs.median - p.totalMs.median) / JOBS) * 1000;
    results.push({
      backend,
      plain: p,
      batch: q,
      ratio,
      perJobUs,
      rounds: { plain, batch: batched },
    });
    console.log(
      `${backend.padEnd(6)} plain ${p.totalMs.median.toFixed(0)} ms (cv ${(p.totalMs.cv * 100).toFixed(1)}%)  ` +
        `batch ${q.totalMs.median.toFixed(0)} ms (cv ${(q.totalMs.cv * 100).toFixed(1)}%)  ` +
        `${ratio.toFixed(2)}x (goal ≤ ${GOAL}x)  +${perJobUs.toFixed(0)} µs/job  ` +
        `dispatch ${p.dispatchMs.median.toFixed(0)} → ${q.dispatchMs.median.toFixed(0)} ms  ` +
        `work ${p.workMs.median.toFixed(0)} → ${q.workMs.median.toFixed(0)} ms  ` +
        `CPU ${p.cpuPerThousand.median.toFixed(0)} → ${q.cpuPerThousand.median.toFixed(0)} ms/1000 jobs`,
    );
  } finally {
    await b.close();
  }
}

const summary = {
  date: new Date().toISOString(),
  jobs: JOBS,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  goal: GOAL,
  cpus: cpus().length,
  loadavg: { start: load[0], max: Math.max(...load), end: loadavg()[0] },
  results,
};
console.log(JSON.stringify(summary));
if (OUT) {
  mkdirSync(OUT, { recursive: true });
  const base = join(OUT, `${summary.date.slice(0, 10)}-batch`);
  writeFileSync(`${base}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(summary));
  console.log(`wrote ${base}.json and ${base}.md`);
}

function markdown(s) {
  const ms = (x) => `${Math.round(x.median).toLocaleString('en-US')} (${(x.cv * 100).toFixed(0)}%)`;
  const rows = s.results.map(
    (r) =>
      `| ${r.backend} | ${ms(r.plain.totalMs)} | ${ms(r.batch.totalMs)} | ${r.ratio.toFixed(2)}x | ` +
      `${r.perJobUs.toFixed(0)} | ${Math.round(r.plain.dispatchMs.median)} → ${Math.round(r.batch.dispatchMs.median)} | ` +
      `${Math.round(r.plain.workMs.median)} → ${Math.round(r.batch.workMs.median)} | ` +
      `${r.plain.cpuPerThousand.median.toFixed(0)} → ${r.batch.cpuPerThousand.median.toFixed(0)} |`,
  );
  return `# Batch overhead, ${s.date.slice(0, 10)}

\`node bench/batch.mjs --backends ${s.results.map((r) => r.backend).join(',')} --jobs ${s.jobs} --rounds ${s.rounds}\`:
${s.jobs.toLocaleString('en-US')} no-op jobs dispatched and worked to the end by one worker (concurrency
${s.concurrency}), as one batch with a \`then\` callback against the same jobs without a batch;
rounds alternate the two sides. Goal: batch ≤ ${s.goal}x the time. ${s.cpus} CPUs; load average
${s.loadavg.start.toFixed(1)} at the start, at most ${s.loadavg.max.toFixed(1)} between rounds.

| backend | plain, ms (CV) | batch, ms (CV) | batch / plain | extra µs per job | dispatch ms, plain → batch | work ms, plain → batch | CPU ms per 1,000 jobs |
| ------- | -------------: | -------------: | ------------: | ---------------: | -------------------------: | ---------------------: | --------------------: |
${rows.join('\n')}
`;
}
