// The cost of the metrics recorder (src/metrics, issue 15): burn-down throughput of a prefilled
// queue of no-op jobs with the recorder on (as `run queue:work` attaches it) and off, on each
// backend. Target: under 2% of throughput.
//
//   npm run build && node bench/metrics-overhead.mjs --backends sqlite,pgsql,redis --jobs 5000 --rounds 5
//
// Rounds alternate off/on (and on/off the next round), so a burst of load on a shared machine
// hits both sides alike; each side's median is reported with its spread, and the median of the
// rounds' own costs (a round's on against the off beside it: "paired"). With the recorder on,
// the timing includes its final flush (stop()). `--flush-ms` writes more often than the 5 s of
// a real worker (a short run would otherwise flush once, at the end): 1000 by default, so a run
// of a few seconds pays several flushes. `--rounds-detail` prints every round.
//
// `--no-commit-wait` runs the PostgreSQL side with `synchronous_commit = off` (its own database
// only): a commit then does not wait for the disk, whose flush times on a shared machine moved
// rounds by ±17%, and the worker runs faster, so whatever the recorder costs per job is a larger
// share of each job, not a smaller one.
//
// `--as-queue-work` gives both sides a `job:processing` listener, as `run queue:work` always
// has one (its log lines, src/worker/render.ts, and the worker registry): the worker then builds
// that event with or without the recorder, and what is left between the sides is the recorder's
// own work. Without it, the "off" side builds no `job:processing` events at all.
//
// On PostgreSQL each round's prefill ends with `VACUUM (ANALYZE) jobs`, outside the timing: a
// round deletes every row it drains, and without it the next round's claims walked the dead
// rows of the last one for as long as autovacuum had not come by (rounds spread 36 to 55%).
import { cpus, loadavg } from 'node:os';
import { jobsmith, makeWorker, openBenchBackend, summarize } from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const BACKENDS = String(args.get('backends') ?? 'sqlite,pgsql,redis').split(',');
const JOBS = Number(args.get('jobs') ?? 5000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const FLUSH_MS = Number(args.get('flush-ms') ?? 1000);
const AS_QUEUE_WORK = args.has('as-queue-work');
const VERBOSE = args.has('rounds-detail');
const NO_COMMIT_WAIT = args.has('no-commit-wait');

const { defineJob } = await jobsmith('index.js');
const { MetricsRecorder } = await jobsmith('metrics/recorder.js');

const noop = defineJob({ name: 'noop', tries: 1, handle: async () => {} });
const row = { name: 'noop', queue: 'default', payload: '{}', priority: 0, maxTries: 1, delayMs: 0 };

const openBackend = (backend) =>
  openBenchBackend(backend, 'metrics', [noop], NO_COMMIT_WAIT ? { synchronous_commit: 'off' } : {});

/**
 * What the recorder itself costs per job event, in ns, measured apart from any storage: the
 * listener's work (a map lookup and a few additions) on a plain EventEmitter.
 */
async function eventCostNs() {
  const { EventEmitter } = await import('node:events');
  const source = new EventEmitter();
  const recorder = new MetricsRecorder({ knex: undefined, retentionMs: 1 });
  recorder.attach(source);
  const job = { id: '1', name: 'noop', queue: 'default', payload: '{}', attempts: 1, maxTries: 1 };
  const n = 1_000_000;
  for (let i = 0; i < n; i++) source.emit('job:processed', { job, durationMs: i % 50 });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) source.emit('job:processed', { job, durationMs: i % 50 });
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * Fills the queue with JOBS no-op jobs, drains it with one worker: jobs per second (wall clock),
 * CPU ms per 1,000 jobs, and with the recorder on the ms spent in its flushes.
 */
async function round(b, withMetrics) {
  for (let i = 0; i < JOBS; i += 1000) {
    await b.driver.push(Array.from({ length: Math.min(1000, JOBS - i) }, () => row));
  }
  if (b.db.knex.client.config.client === 'pg') {
    await b.db.knex.raw('vacuum (analyze) jobs');
    await b.db.knex.raw('checkpoint');
  }
  const worker = await makeWorker(b.driver, [noop], {
    concurrency: CONCURRENCY,
    stopWhenEmpty: true,
    sleepMs: 50,
  });
  let recorder;
  let detach = () => {};
  let errors = 0;
  let flushMs = 0;
  let flushes = 0;
  if (withMetrics) {
    recorder = new MetricsRecorder({
      knex: b.db.knex,
      retentionMs: 7 * 86_400_000,
      flushEveryMs: FLUSH_MS,
      onError: () => errors++,
    });
    detach = recorder.attach(worker);
    const flush = recorder.flush.bind(recorder);
    recorder.flush = async () => {
      const f0 = performance.now();
      try {
        return await flush();
      } finally {
        flushMs += performance.now() - f0;
        flushes++;
      }
    };
    recorder.start();
  }
  let processed = 0;
  worker.on('job:processed', () => processed++);
  let processing = 0;
  if (AS_QUEUE_WORK) worker.on('job:processing', () => processing++);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await worker.run();
  if (recorder) {
    detach();
    await recorder.stop();
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (processed !== JOBS) throw new Error(`processed ${processed} of ${JOBS}`);
  if (AS_QUEUE_WORK && processing !== JOBS) throw new Error(`${processing} of ${JOBS} started`);
  if (errors) throw new Error(`${errors} metrics errors`);
  return {
    perSecond: (JOBS / ms) * 1000,
    cpuPerThousand: ((cpu.user + cpu.system) / 1000 / JOBS) * 1000,
    flushShare: flushMs / ms,
    flushes,
  };
}

const perEventNs = await eventCostNs();
console.log(`recorder: ${perEventNs.toFixed(0)} ns per job event (no storage)`);
const results = [];
for (const backend of BACKENDS) {
  const b = await openBackend(backend);
  try {
    await round(b, false); // warm-up: JIT, connections, the table's first pages
    const off = [];
    const on = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const withMetrics of order) {
        const x = await round(b, withMetrics);
        (withMetrics ? on : off).push(x);
        if (VERBOSE)
          console.log(
            `  round ${r + 1} ${withMetrics ? 'on ' : 'off'} ${x.perSecond.toFixed(0)} jobs/s, CPU ${x.cpuPerThousand.toFixed(1)} ms/1000 jobs`,
          );
      }
    }
    const so = summarize(off.map((x) => x.perSecond));
    const sn = summarize(on.map((x) => x.perSecond));
    const cpuOff = summarize(off.map((x) => x.cpuPerThousand));
    const cpuOn = summarize(on.map((x) => x.cpuPerThousand));
    const flushShare = summarize(on.map((x) => x.flushShare));
    const cost = (1 - sn.median / so.median) * 100;
    // Each round's on against its own off: drift between rounds (the server's checkpoints,
    // fsync times) cancels out, which the medians of the two sides do not.
    const pairs = on.map((x, i) => (1 - x.perSecond / off[i].perSecond) * 100);
    const paired = summarize(pairs);
    // The mean of the rounds' costs and its 95% interval (1.96 standard errors).
    const mean = pairs.reduce((a, c) => a + c, 0) / pairs.length;
    const sd = Math.sqrt(pairs.reduce((a, c) => a + (c - mean) ** 2, 0) / (pairs.length - 1));
    const interval = [
      mean - (1.96 * sd) / Math.sqrt(pairs.length),
      mean + (1.96 * sd) / Math.sqrt(pairs.length),
    ];
    const cpuCost = (cpuOn.median / cpuOff.median - 1) * 100;
    results.push({
      backend,
      off: so,
      on: sn,
      cpuOff,
      cpuOn,
      flushShare,
      costPercent: cost,
      pairedCostPercent: paired,
      pairedMeanPercent: mean,
      pairedInterval95: interval,
      cpuCost,
    });
    console.log(
      `${backend.padEnd(6)}${AS_QUEUE_WORK ? ' (as queue:work)' : ''} off ${so.median.toFixed(0)} jobs/s (cv ${(so.cv * 100).toFixed(1)}%)  ` +
        `on ${sn.median.toFixed(0)} jobs/s (cv ${(sn.cv * 100).toFixed(1)}%)  wall cost ${cost.toFixed(2)}%  ` +
        `paired median ${paired.median.toFixed(2)}%, mean ${mean.toFixed(2)}% (95%: ${interval[0].toFixed(1)} to ${interval[1].toFixed(1)}; rounds ${paired.min.toFixed(1)} to ${paired.max.toFixed(1)})  ` +
        `CPU ${cpuOff.median.toFixed(0)} → ${cpuOn.median.toFixed(0)} ms/1000 jobs (${cpuCost.toFixed(2)}%)  ` +
        `time in flushes ${(flushShare.median * 100).toFixed(2)}% of the run`,
    );
  } finally {
    await b.close();
  }
}
console.log(
  JSON.stringify({
    jobs: JOBS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    flushMs: FLUSH_MS,
    asQueueWork: AS_QUEUE_WORK,
    perEventNs,
    cpus: cpus().length,
    loadavg: loadavg(),
    results,
  }),
);
