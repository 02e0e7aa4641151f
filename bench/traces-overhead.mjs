// The cost of traces (src/telemetry/traces, issue 16): burn-down throughput of a prefilled queue
// of no-op jobs, untraced (TELEMETRY_ENABLED=false: no hooks, no headers) against traced as
// `run queue:work` traces it (a span per run, each job carrying its dispatch's traceparent), on
// each backend. Goal: at least 0.95x.
//
//   npm run build && node bench/traces-overhead.mjs --backends sqlite,pgsql,redis --jobs 5000 --rounds 5
//   node bench/traces-overhead.mjs --provider none   # the API and no SDK: the hooks alone
//
// The app's SDK is what a deployment would run: a BasicTracerProvider with a BatchSpanProcessor
// (its exporter drops the spans: the network is not what is measured) and the AsyncLocalStorage
// context manager. Rounds alternate off/on (and on/off the next round); medians and spread are
// reported. Needs the dev dependencies (@opentelemetry/api, sdk-trace-base, context-async-hooks).
import { cpus, loadavg } from 'node:os';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
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
// `none`: TELEMETRY_ENABLED=true with the API installed and no provider registered (metrics
// only): what the hooks cost by themselves, every span the API's no-op.
const PROVIDER = String(args.get('provider') ?? 'batch');

const { defineJob } = await jobsmith('index.js');
const { Dispatcher } = await jobsmith('queue/dispatcher.js');
const { tracingOn } = await jobsmith('telemetry/traces/index.js');

let exported = 0;
const provider = new BasicTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor(
      {
        export(spans, done) {
          exported += spans.length;
          done({ code: 0 });
        },
        shutdown: async () => {},
      },
      { maxQueueSize: 100_000, maxExportBatchSize: 2048 },
    ),
  ],
});
if (PROVIDER !== 'none') api.trace.setGlobalTracerProvider(provider);
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracing = tracingOn(api);

const noop = defineJob({ name: 'noop', tries: 1, handle: async () => {} });
const row = { name: 'noop', queue: 'default', payload: '{}', priority: 0, maxTries: 1, delayMs: 0 };

const openBackend = (backend) => openBenchBackend(backend, 'traces', [noop]);

/** Fills the queue (traced: through the dispatch hook, in a request's span), drains it. */
async function round(b, traced) {
  const dispatcher = new Dispatcher(
    async () => b.driver,
    traced ? tracing.aroundDispatch : undefined,
  );
  const tracer = api.trace.getTracer('bench');
  await tracer.startActiveSpan('fill', async (span) => {
    for (let i = 0; i < JOBS; i += 1000) {
      await dispatcher.push(Array.from({ length: Math.min(1000, JOBS - i) }, () => row));
    }
    span.end();
  });
  const runs = traced ? tracing.runs() : undefined;
  const worker = await makeWorker(
    b.driver,
    [noop],
    { concurrency: CONCURRENCY, stopWhenEmpty: true, sleepMs: 50 },
    jobsmith,
    runs ? { aroundHandler: runs.aroundHandler } : {},
  );
  runs?.attach(worker, 'bench');
  let processed = 0;
  worker.on('job:processed', () => processed++);
  const before = exported;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await worker.run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await provider.forceFlush();
  if (processed !== JOBS) throw new Error(`processed ${processed} of ${JOBS}`);
  // One span per run (the fill's send spans were exported before the drain began or are few).
  if (traced && PROVIDER !== 'none' && exported - before < JOBS)
    throw new Error(`${exported - before} spans for ${JOBS} runs`);
  return {
    perSecond: (JOBS / ms) * 1000,
    cpuPerThousand: ((cpu.user + cpu.system) / 1000 / JOBS) * 1000,
  };
}

const results = [];
for (const backend of BACKENDS) {
  const b = await openBackend(backend);
  try {
    await round(b, false); // warm-up: JIT, connections, the table's first pages
    await round(b, true);
    const off = [];
    const on = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const traced of order) (traced ? on : off).push(await round(b, traced));
    }
    const so = summarize(off.map((x) => x.perSecond));
    const sn = summarize(on.map((x) => x.perSecond));
    const cpuOff = summarize(off.map((x) => x.cpuPerThousand));
    const cpuOn = summarize(on.map((x) => x.cpuPerThousand));
    const ratio = sn.median / so.median;
    results.push({ backend, off: so, on: sn, cpuOff, cpuOn, ratio });
    console.log(
      `${backend.padEnd(6)} off ${so.median.toFixed(0)} jobs/s (cv ${(so.cv * 100).toFixed(1)}%)  ` +
        `on ${sn.median.toFixed(0)} jobs/s (cv ${(sn.cv * 100).toFixed(1)}%)  ${ratio.toFixed(3)}x  ` +
        `CPU ${cpuOff.median.toFixed(0)} → ${cpuOn.median.toFixed(0)} ms/1000 jobs`,
    );
  } finally {
    await b.close();
  }
}
await provider.shutdown();
console.log(
  JSON.stringify({
    jobs: JOBS,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    provider: PROVIDER,
    cpus: cpus().length,
    load: loadavg()[0],
    results,
  }),
);
