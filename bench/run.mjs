#!/usr/bin/env node
// Side-by-side benchmarks: jobsmith against its peers on the same database or Redis, in
// interleaved rounds. `npm run bench -- --help` for the flags; docs/performance.md for what the
// numbers mean and how the committed results were taken.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const BACKENDS = ['sqlite', 'pgsql', 'redis'];
const WORKLOADS = [
  'enqueue',
  'burn-down',
  'pickup',
  'scaling',
  'memory',
  'memory-long',
  'cold-start',
];
const DEFAULT_WORKLOADS = WORKLOADS.filter((w) => w !== 'memory-long');
const DEPS = {
  sqlite: ['pg'],
  pgsql: ['graphile-worker', 'pg-boss', 'pg'],
  redis: ['bullmq', 'bee-queue', 'ioredis', 'pg'],
};

const HELP = `Usage: npm run bench -- [options]

Runs jobsmith side by side with graphile-worker and pg-boss (pgsql), BullMQ and bee-queue
(redis) and a raw better-sqlite3 loop (sqlite), in interleaved rounds, and writes
<date>-<backend>.json and .md.

Options:
  --backend LIST    sqlite, pgsql, redis, comma-separated (default: all three)
  --workload LIST   ${WORKLOADS.join(', ')}
                    (default: all but memory-long, the 1,000,000-job memory run)
  --jobs N          jobs per burn-down and scaling round (default: 50000)
  --rounds N        measured rounds per contender, after one warm-up round (default: 5)
  --only LIST       run only these contender ids (jobsmith is always included)
  --quick           small sizes and one round: a smoke test that finishes in under two minutes
  --out DIR         where to write results (default: bench/results, or a temp folder with --quick)
  --report FILE     rewrite the markdown report of an earlier run from its .json, and exit
  --help            this text

Needs: a built jobsmith (npm run build), the bench dependencies (npm install --prefix bench),
PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) and Redis at
BENCH_REDIS_URL (default redis://127.0.0.1:6379).`;

function usage(message) {
  console.error(`${message}\nRun \`npm run bench -- --help\` for the options.`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { backends: BACKENDS, workloads: DEFAULT_WORKLOADS, rounds: 5, quick: false };
  const list = (flag, v, allowed) => {
    const items = String(v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = items.find((i) => !allowed.includes(i));
    if (items.length === 0 || bad)
      usage(`${flag} accepts ${allowed.join(', ')} (comma-separated), got "${v ?? ''}".`);
    return items;
  };
  const int = (flag, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      usage(`${flag} must be a whole number ≥ ${min}, got "${v ?? ''}".`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (flag === '--backend') o.backends = list(flag, value(), BACKENDS);
    else if (flag === '--workload') o.workloads = list(flag, value(), WORKLOADS);
    else if (flag === '--jobs') o.jobs = int(flag, value(), 100);
    else if (flag === '--rounds') o.rounds = int(flag, value(), 1);
    else if (flag === '--only') o.only = String(value() ?? '').split(',');
    else if (flag === '--quick') o.quick = true;
    else if (flag === '--out') o.out = value();
    else if (flag === '--report') o.report = value();
    else usage(`Unknown option "${argv[i]}".`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

if (opts.report) {
  const { readFileSync } = await import('node:fs');
  const { markdown } = await import('./report.mjs');
  const md = markdown(JSON.parse(readFileSync(opts.report, 'utf8')));
  writeFileSync(opts.report.replace(/\.json$/, '.md'), md);
  console.log(md);
  process.exit(0);
}

if (!existsSync(join(ROOT, 'dist/src/index.js'))) {
  console.error('jobsmith is not built: run `npm run build` first.');
  process.exit(1);
}
const missing = [...new Set(opts.backends.flatMap((b) => DEPS[b]))].filter(
  (d) => !existsSync(join(BENCH, 'node_modules', d, 'package.json')),
);
if (missing.length) {
  console.error(
    `The benchmark dependencies are not installed (missing: ${missing.join(', ')}).\n` +
      'Install them once with:\n\n  npm install --prefix bench\n',
  );
  process.exit(1);
}

// Only now: these import the peers from bench/node_modules.
const { contenders: contendersOf, loadModule } = await import('./contenders/index.mjs');
const { environment } = await import('./env.mjs');
const W = await import('./workloads.mjs');
const { summarizeRounds, markdown } = await import('./report.mjs');

/** Sizes of every workload; --quick shrinks everything to a smoke test. */
function plan() {
  const q = opts.quick;
  // 50,000: at 10,000 a round of a fast contender lasted 250 ms, a third of it JIT and
  // connection warm-up in a fresh process, and a 4-process round mostly start-up.
  const jobs = opts.jobs ?? (q ? 2000 : 50_000);
  return {
    rounds: q ? 1 : opts.rounds,
    // pg-boss polls: its burn-down rate is known within a few seconds.
    pollerBurnDownSeconds: q ? 2 : 5,
    warmup: !q,
    burnDown: { jobs, levels: q ? [1, 50] : [1, 10, 50], maxSeconds: q ? 2 : 10 },
    enqueue: {
      single: { jobs: q ? 300 : 2000, maxSeconds: q ? 2 : 8 },
      bulk: { jobs: q ? 5000 : 20_000, bulkSize: 1000, maxSeconds: q ? 2 : 8 },
    },
    pickup: {
      samples: q ? 50 : Math.ceil(1000 / opts.rounds),
      maxSeconds: q ? 3 : 30,
      pollerMaxSeconds: q ? 2.5 : 8,
    },
    scaling: { jobs, processes: q ? [2] : [1, 2, 4], concurrency: 10, maxSeconds: q ? 2 : 8 },
    memory: { chunk: q ? 2000 : 100_000, chunks: 1, concurrency: 10 },
    memoryLong: { chunk: 100_000, chunks: 10, concurrency: 10 },
    coldStart: { perRound: q ? 2 : 5 },
  };
}

/** The measurements of one workload: [params, unit, higherIsBetter, measure(contender, scale)]. */
function measurements(workload, p, c) {
  const cap = (s) => (c.poller ? Math.min(s, p.pollerBurnDownSeconds) : s);
  switch (workload) {
    case 'enqueue':
      return [
        [
          { mode: 'single awaited' },
          'jobs/s',
          true,
          (k, f) =>
            W.enqueue(k, {
              kind: 'single',
              jobs: Math.ceil(p.enqueue.single.jobs * f),
              maxSeconds: p.enqueue.single.maxSeconds,
            }),
        ],
        [
          { mode: `bulk of ${p.enqueue.bulk.bulkSize}` },
          'jobs/s',
          true,
          (k, f) =>
            W.enqueue(k, {
              kind: 'bulk',
              jobs: Math.ceil(p.enqueue.bulk.jobs * f),
              bulkSize: p.enqueue.bulk.bulkSize,
              maxSeconds: p.enqueue.bulk.maxSeconds,
            }),
        ],
      ];
    case 'burn-down':
      return p.burnDown.levels.map((concurrency) => [
        { concurrency, jobs: p.burnDown.jobs },
        'jobs/s',
        true,
        (k, f) =>
          W.burnDown(k, {
            jobs: Math.ceil(p.burnDown.jobs * f),
            concurrency,
            maxSeconds: cap(p.burnDown.maxSeconds) * f,
          }),
      ]);
    case 'scaling':
      return p.scaling.processes.map((processes) => [
        { processes, concurrency: p.scaling.concurrency, jobs: p.scaling.jobs },
        'jobs/s',
        true,
        (k, f) =>
          W.burnDown(k, {
            jobs: Math.ceil(p.scaling.jobs * f),
            processes,
            concurrency: p.scaling.concurrency,
            maxSeconds: cap(p.scaling.maxSeconds) * f,
          }),
      ]);
    case 'pickup':
      return [
        [
          { samples: p.pickup.samples * p.rounds },
          'ms',
          false,
          (k, f) =>
            W.pickup(k, {
              samples: Math.ceil(p.pickup.samples * f),
              warmup: c.poller ? 1 : 10,
              maxSeconds:
                (c.poller ? p.pickup.pollerMaxSeconds : p.pickup.maxSeconds) * Math.max(f, 0.5),
            }),
        ],
      ];
    case 'memory':
      return [
        [
          { jobs: p.memory.chunk * p.memory.chunks, concurrency: p.memory.concurrency },
          'MB',
          false,
          (k) => W.memory(k, p.memory),
        ],
      ];
    case 'memory-long':
      return [
        [
          { jobs: p.memoryLong.chunk * p.memoryLong.chunks, concurrency: p.memoryLong.concurrency },
          'MB',
          false,
          (k) => W.memory(k, p.memoryLong),
        ],
      ];
    default:
      throw new Error(workload);
  }
}

async function runBackend(backend) {
  const p = plan();
  const runId = `${Date.now().toString(36)}${process.pid}`;
  let list = contendersOf(backend);
  if (opts.only) list = list.filter((c) => c.id === 'jobsmith' || opts.only.includes(c.id));
  const rounds = [];
  const skipped = [];
  const result = {
    environment: await environment(backend),
    options: {
      backend,
      quick: opts.quick,
      rounds: p.rounds,
      warmup: p.warmup,
      workloads: opts.workloads,
      plan: p,
    },
    contenders: [],
    rounds,
    skipped,
  };
  if (backend === 'redis' && !list.some((c) => c.id === 'jobsmith')) {
    skipped.push({
      contender: 'jobsmith',
      workload: 'all',
      reason: 'the redis driver is not in this build (dist/src/queue/redis/redis-queue.js missing)',
    });
    console.error(
      '! jobsmith has no redis driver in dist/ yet: running BullMQ and bee-queue only.',
    );
  }

  // Set up each module's storage once, and a parent-side handle per contender (reset, insert, count).
  const modules = new Map();
  const ctxs = {};
  try {
    for (const c of list) {
      if (!modules.has(c.module)) {
        const mod = await loadModule(c.module);
        modules.set(c.module, { mod, ctx: await mod.prepare({ backend, runId }) });
      }
      const { mod, ctx } = modules.get(c.module);
      c.ctx = ctx;
      ctxs[c.module] = ctx;
      c.handle = await mod.open(ctx, c.variant);
      result.contenders.push({
        id: c.id,
        label: c.label,
        peer: mod.peer.name,
        version: mod.peer.version,
        settings: mod.settings(ctx, c.variant),
        describe: Object.values(mod.settings(ctx, c.variant)).join('; '),
      });
    }

    for (const workload of opts.workloads) {
      if (workload === 'cold-start') {
        if (backend === 'redis') continue;
        await coldStart(backend, p, ctxs, rounds);
        continue;
      }
      const active = list.filter((c) => {
        // The long memory run is about our own worker: with and without a prefetch buffer.
        if (workload === 'memory-long' && c.module !== 'jobsmith') return false;
        const reason = c.skip?.[workload.startsWith('memory') ? 'memory' : workload];
        if (reason) skipped.push({ contender: c.id, workload, reason });
        return !reason;
      });
      const single = workload.startsWith('memory');
      const groups = measurements(workload, p, active[0] ?? {}).map((_, i) => i);
      for (const g of groups) {
        const first = single ? 0 : p.warmup ? -1 : 0;
        const last = single ? 0 : p.rounds - 1;
        for (let round = first; round <= last; round++) {
          for (const c of active) {
            const [params, unit, higherIsBetter, measure] = measurements(workload, p, c)[g];
            const warmup = round < 0;
            const tag = `${backend} ${workload} ${JSON.stringify(params)} ${c.id} ${warmup ? 'warm-up' : `round ${round + 1}`}`;
            try {
              const r = await measureWithRetry(backend, tag, () => measure(c, warmup ? 0.2 : 1));
              rounds.push({
                workload,
                params,
                contender: c.id,
                round,
                warmup,
                unit,
                higherIsBetter,
                ...r,
              });
              console.error(
                `${tag}: ${r.value.toFixed(unit === 'jobs/s' ? 0 : 2)} ${unit}${r.capped ? ' (capped)' : ''} load ${r.load.toFixed(2)}`,
              );
            } catch (error) {
              rounds.push({
                workload,
                params,
                contender: c.id,
                round,
                warmup,
                unit,
                higherIsBetter,
                error: String(error?.stack ?? error),
              });
              console.error(`${tag}: FAILED ${error?.message ?? error}`);
            }
          }
        }
      }
    }
  } finally {
    for (const c of list) await c.handle?.close().catch(() => {});
    for (const { mod, ctx } of modules.values()) await mod.destroy(ctx).catch(() => {});
  }
  result.environment.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  result.summary = summarizeRounds(rounds);
  return result;
}

/**
 * The servers are shared with other test runs, some of which restart PostgreSQL or Redis: a
 * failed measurement waits for its server to answer again and is retried once.
 */
async function measureWithRetry(backend, tag, measure) {
  try {
    return await measure();
  } catch (error) {
    console.error(`${tag}: ${error?.message ?? error}; retrying once the server answers`);
    await waitForServer(backend);
    return measure();
  }
}

async function waitForServer(backend) {
  const { PG_ADMIN_URL, withPg, REDIS_URL, sleep } = await import('./lib.mjs');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if (backend === 'pgsql') await withPg(PG_ADMIN_URL, (c) => c.query('select 1'));
      if (backend === 'redis') {
        const { default: IORedis } = await import('ioredis');
        const r = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
        try {
          await r.connect();
          await r.ping();
        } finally {
          r.disconnect();
        }
      }
      await sleep(1000); // a server that just came back may still be recovering
      return;
    } catch {
      if (Date.now() > deadline) return;
      await sleep(1000);
    }
  }
}

async function coldStart(backend, p, ctxs, rounds) {
  const cs = W.coldStartCases(backend, ctxs);
  try {
    const n = p.rounds * p.coldStart.perRound;
    for (let i = 0; i < n; i++) {
      for (const c of cs.cases) {
        const r = cs.sample(c);
        rounds.push({
          workload: 'cold-start',
          params: {},
          contender: c.id,
          command: c.label,
          round: i,
          warmup: false,
          unit: 'ms',
          higherIsBetter: false,
          ...r,
        });
      }
    }
    console.error(`${backend} cold-start: ${n} samples of ${cs.cases.length} commands`);
  } finally {
    cs.cleanup();
  }
}

const outDir =
  opts.out ??
  (opts.quick ? mkdtempSync(join(tmpdir(), 'jobsmith-bench-')) : join(BENCH, 'results'));
mkdirSync(outDir, { recursive: true });
const started = Date.now();
let failed = false;
for (const backend of opts.backends) {
  const result = await runBackend(backend);
  const contenders = result.contenders;
  // Cold start compares commands, not contenders: label them for the report.
  for (const r of result.rounds) {
    if (r.workload === 'cold-start' && !contenders.some((c) => c.id === r.contender))
      contenders.push({
        id: r.contender,
        label: r.command,
        peer: 'command',
        version: '',
        describe: 'spawnSync wall time',
        settings: {},
      });
  }
  const md = markdown(result);
  // A memory-long run is a file of its own: it must not overwrite the full run of the same day.
  const suffix = opts.workloads.every((w) => w === 'memory-long') ? '-memory-long' : '';
  const base = join(outDir, `${result.environment.date.slice(0, 10)}-${backend}${suffix}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, md);
  console.log(md);
  console.error(`\nWrote ${base}.json and ${base}.md`);
  if (result.rounds.some((r) => r.error)) failed = true;
}
console.error(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
process.exitCode = failed ? 1 : 0;
