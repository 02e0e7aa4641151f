#!/usr/bin/env node
// What telemetry costs (issue 16, docs/telemetry.md), two parts:
//
// throughput  Burn-down of a prefilled queue of no-op jobs by one worker with TELEMETRY_ENABLED
//             on (prom-client loaded, /metrics served and scraped every --scrape-every ms, the
//             job counters and histograms attached as `run queue:work` attaches them) and off
//             (nothing of it loaded), each round in a fresh process so that "off" never has
//             prom-client in its heap. Rounds alternate on/off, then off/on, so a burst of load on
//             a shared machine hits both sides alike. Goal: on ≥ 0.95 × off (median jobs/s).
// scrape      A real `run metrics:serve` over a storage holding --jobs jobs (1,000,000 by
//             default: 1,000 dispatched, then copied by SQL until there are enough), scraped
//             --scrapes times, --interval ms apart, while it reads the storage every --refresh
//             (1s here, 5s by default, so that many scrapes land during a read). Goal: every
//             scrape under 50 ms. Also reports how long one read takes: what each scrape would
//             cost an exporter that counted on every scrape.
//
//   npm run build
//   node bench/telemetry.mjs --part throughput --backends sqlite,pgsql,redis --jobs 10000 --rounds 5
//   node bench/telemetry.mjs --part scrape --backends sqlite,pgsql --jobs 1000000 --scrapes 200
//   node bench/telemetry.mjs --quick          # both parts, small, SQLite only: a smoke run that
//                                             # checks the bench works; its numbers mean nothing
//
// The scrape part on Redis stores its jobs through the driver (no SQL to copy them with):
// 1,000,000 take minutes there, so give it fewer (--jobs 100000). PostgreSQL and Redis are
// BENCH_DATABASE_URL and BENCH_REDIS_URL (bench/lib.mjs); each run gets its own database or key
// prefix and removes it. Prints a line per backend, then one JSON line with everything.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchStorage,
  jobsmith,
  makeWorker,
  percentile,
  ROOT_DIR,
  sleep,
  summarize,
} from './lib.mjs';

const argv = process.argv.slice(2);
const args = new Map(
  argv.flatMap((a, i, all) =>
    a.startsWith('--') ? [[a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : [],
  ),
);
const QUICK = args.has('quick');
const arg = (name, normal, quick) => args.get(name) || (QUICK ? quick : normal);

const noopRow = (i, queue = 'default') => ({
  name: 'noop',
  queue,
  payload: `{"i":${i}}`,
  priority: 0,
  maxTries: 1,
  delayMs: 0,
});

/** GETs `url` with node:http (loaded anyway by the endpoint; fetch would load undici). */
function getText(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** A free port on 127.0.0.1. */
async function sparePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** The app's storage, migrated, and a driver on it (bench/metrics-overhead.mjs does the same). */
async function openStorage(backend, tag) {
  const dir = mkdtempSync(join(tmpdir(), `jobsmith-bench-${tag}-`));
  const storage = await benchStorage(backend, dir, tag);
  const vars = { ...storage.vars, LOG_LEVEL: 'silent', LOG_FILE: join(dir, 'app.log') };
  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  const { migrateLatest } = await jobsmith('db/migrate.js');
  const { QueueConnections } = await jobsmith('queue/connections.js');
  const { JobRegistry } = await jobsmith('jobs/registry.js');
  const { defineJob } = await jobsmith('index.js');
  const env = parseEnv(vars);
  const db = await openDatabase(env, dir);
  await migrateLatest(db);
  const noop = defineJob({ name: 'noop', tries: 1, handle: async () => {} });
  const connections = new QueueConnections({
    env,
    cwd: dir,
    db: async () => db,
    registry: async () => new JobRegistry([noop]),
  });
  const driver = await connections.get();
  return {
    dir,
    vars,
    db,
    driver,
    noop,
    async close() {
      await connections.close();
      await db.knex.destroy();
      await storage.remove();
    },
  };
}

// ---- throughput ---------------------------------------------------------------------------

/**
 * In a child process: drains the `warmup` queue untimed (the JIT, the storage's statements and
 * pages, telemetry's own first scrape), then times the drain of `default` by a new worker, both
 * with telemetry on or both off; prints JSON.
 */
async function runChild(task) {
  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  const { QueueConnections } = await jobsmith('queue/connections.js');
  const { JobRegistry } = await jobsmith('jobs/registry.js');
  const { defineJob } = await jobsmith('index.js');
  const env = parseEnv(task.vars);
  const db = await openDatabase(env, task.dir);
  const noop = defineJob({ name: 'noop', tries: 1, handle: async () => {} });
  const connections = new QueueConnections({
    env,
    cwd: task.dir,
    db: async () => db,
    registry: async () => new JobRegistry([noop]),
  });
  const driver = await connections.get();
  const workerOf = (queue) =>
    makeWorker(driver, [noop], {
      queues: [queue],
      concurrency: task.concurrency,
      stopWhenEmpty: true,
      sleepMs: 50,
    });
  const warmup = await workerOf('warmup');
  const worker = await workerOf('default');
  let processed = 0;
  worker.on('job:processed', () => processed++);
  // `run queue:work` always listens to job:processing (its renderer, job_metrics, history), and
  // the worker builds that event only for a listener: both sides pay for it, as in production,
  // so that "on" measures telemetry and not the event itself.
  worker.on('job:processing', () => {});
  let telemetry;
  let unwatch = () => {};
  if (task.telemetry) {
    const { startProcessTelemetry } = await jobsmith('telemetry/process.js');
    telemetry = await startProcessTelemetry({
      command: 'queue:work',
      port: task.port,
      host: '127.0.0.1',
      portSetting: '--metrics-port',
    });
    const watch = {
      known: (name) => name === 'noop',
      expected: [{ queue: 'default', job: 'noop' }],
    };
    const unwatchWarmup = telemetry.watchWorker(warmup, watch);
    unwatch = telemetry.watchWorker(worker, watch);
    await warmup.run();
    unwatchWarmup();
    // The first scrapes of a process compile prom-client's rendering and default collectors
    // (tens of ms, once per process): a long-running worker pays that once, not per job.
    for (let i = 0; i < 2; i++) await getText(telemetry.url);
  } else await warmup.run();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await worker.run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  let counted;
  if (telemetry) {
    const text = await getText(telemetry.url);
    counted = Number(
      /jobsmith_jobs_processed_total\{queue="default",[^}]*outcome="succeeded"[^}]*\} (\d+)/.exec(
        text,
      )?.[1],
    );
    unwatch();
    await telemetry.close();
  }
  await connections.close();
  await db.knex.destroy();
  process.stdout.write(
    `${JSON.stringify({
      processed,
      counted,
      perSecond: (processed / ms) * 1000,
      cpuPerThousand: ((cpu.user + cpu.system) / 1000 / processed) * 1000,
    })}\n`,
  );
}

/**
 * Runs one round in a fresh process; resolves with what it printed. With telemetry on, this
 * process scrapes the child's /metrics every scrapeEveryMs meanwhile, as Prometheus would: from
 * outside, so that the scraper's own HTTP client is not counted as the worker's cost.
 */
function round(b, telemetry, options) {
  return new Promise((resolve, reject) => {
    const task = { ...options, vars: b.vars, dir: b.dir, telemetry };
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', JSON.stringify(task)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let scrapes = 0;
    const scraper =
      telemetry &&
      setInterval(() => {
        fetch(`http://127.0.0.1:${options.port}/metrics`)
          .then((r) => r.text())
          .then(
            () => scrapes++,
            () => {}, // not listening yet, or already closed
          );
      }, options.scrapeEveryMs);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      clearInterval(scraper);
      if (code !== 0) return reject(new Error(`round exited ${code}`));
      resolve({ ...JSON.parse(out.trim().split('\n').pop()), scrapes });
    });
  });
}

async function throughput(backends) {
  const jobs = Number(arg('jobs', 10000, 3000));
  const rounds = Number(arg('rounds', 5, 2));
  const concurrency = Number(arg('concurrency', 10, 10));
  const scrapeEveryMs = Number(arg('scrape-every', 1000, 200));
  const results = [];
  for (const backend of backends) {
    const b = await openStorage(backend, 'telemetry');
    try {
      // Enough for V8 to have compiled the hot paths before the timed part: the compiler's
      // threads count in a process's CPU, and telemetry's code would otherwise be compiled
      // during "on"'s timed part only.
      const warmups = Math.max(1000, Math.min(5000, Math.floor(jobs / 2)));
      const fill = async () => {
        await b.driver.push(Array.from({ length: warmups }, (_, k) => noopRow(k, 'warmup')));
        for (let i = 0; i < jobs; i += 1000)
          await b.driver.push(
            Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => noopRow(i + k)),
          );
      };
      const one = async (on) => {
        await fill();
        const r = await round(b, on, { concurrency, scrapeEveryMs, port: await sparePort() });
        if (r.processed !== jobs)
          throw new Error(`${backend}: processed ${r.processed} of ${jobs}`);
        if (on && r.counted !== jobs)
          throw new Error(`${backend}: /metrics counted ${r.counted} of ${jobs}`);
        return r;
      };
      await one(false); // a round thrown away: the storage's first pages, the OS's caches
      const off = [];
      const on = [];
      for (let r = 0; r < rounds; r++) {
        for (const t of r % 2 === 0 ? [false, true] : [true, false])
          (t ? on : off).push(await one(t));
      }
      const so = summarize(off.map((x) => x.perSecond));
      const sn = summarize(on.map((x) => x.perSecond));
      const ratio = sn.median / so.median;
      const cpuOff = summarize(off.map((x) => x.cpuPerThousand));
      const cpuOn = summarize(on.map((x) => x.cpuPerThousand));
      results.push({ backend, off: so, on: sn, ratio, cpuOff, cpuOn, goal: ratio >= 0.95 });
      console.log(
        `throughput ${backend.padEnd(6)} off ${so.median.toFixed(0)} jobs/s (cv ${(so.cv * 100).toFixed(1)}%)  ` +
          `on ${sn.median.toFixed(0)} jobs/s (cv ${(sn.cv * 100).toFixed(1)}%)  on/off ${ratio.toFixed(3)} ` +
          `(goal ≥ 0.95: ${ratio >= 0.95 ? 'met' : 'missed'})  CPU ${cpuOff.median.toFixed(0)} → ${cpuOn.median.toFixed(0)} ms/1000 jobs`,
      );
    } finally {
      await b.close();
    }
  }
  return { jobs, rounds, concurrency, scrapeEveryMs, results };
}

// ---- scrape -------------------------------------------------------------------------------

/** Stores `n` jobs: 1,000 through the driver, then (SQL storage) copies of them by SQL. */
async function fillJobs(b, backend, n) {
  const seed = Math.min(n, 1000);
  for (let i = 0; i < seed; i += 500)
    await b.driver.push(Array.from({ length: Math.min(500, seed - i) }, (_, k) => noopRow(i + k)));
  if (backend === 'redis') {
    for (let i = seed; i < n; i += 1000)
      await b.driver.push(Array.from({ length: Math.min(1000, n - i) }, (_, k) => noopRow(i + k)));
    return;
  }
  const knex = b.db.knex;
  const columns =
    backend === 'pgsql'
      ? (
          await knex.raw(
            `select column_name as name from information_schema.columns where table_name = 'jobs'`,
          )
        ).rows
      : await knex.raw(`pragma table_info(jobs)`);
  const names = columns.map((c) => c.name).filter((c) => c !== 'id' && c !== 'unique_key');
  const list = names.map((c) => `"${c}"`).join(', ');
  let stored = seed;
  while (stored < n) {
    const k = Math.min(stored, n - stored);
    await knex.raw(`insert into jobs (${list}) select ${list} from jobs limit ?`, [k]);
    stored += k;
  }
}

async function scrapePart(backends) {
  const jobs = Number(arg('jobs', 1_000_000, 20_000));
  const scrapes = Number(arg('scrapes', 200, 40));
  const intervalMs = Number(arg('interval', 50, 50));
  const refresh = arg('refresh', '1s', '1s');
  const results = [];
  for (const backend of backends) {
    const b = await openStorage(backend, 'scrape');
    let server;
    try {
      const f0 = performance.now();
      await fillJobs(b, backend, jobs);
      const fillS = (performance.now() - f0) / 1000;
      const port = await sparePort();
      const s0 = performance.now();
      server = spawn(
        process.execPath,
        [join(ROOT_DIR, 'bin/run'), 'metrics:serve', '--port', String(port), '--refresh', refresh],
        {
          cwd: b.dir,
          env: { ...process.env, ...b.vars, TELEMETRY_ENABLED: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      server.stdout.on('data', (d) => (output += d));
      server.stderr.on('data', (d) => (output += d));
      for (let i = 0; !output.includes('Serving queue metrics'); i++) {
        if (server.exitCode !== null || i > 6000)
          throw new Error(`metrics:serve did not start:\n${output}`);
        await sleep(50);
      }
      const startS = (performance.now() - s0) / 1000;
      const url = `http://127.0.0.1:${port}/metrics`;
      // The first scrapes load this process's HTTP client and warm metrics:serve's code: timed
      // apart, as Prometheus, a long-running scraper, pays that once.
      const c0 = performance.now();
      await (await fetch(url)).text();
      const firstMs = performance.now() - c0;
      for (let i = 0; i < 3; i++) await (await fetch(url)).text();
      const times = [];
      let last = '';
      for (let i = 0; i < scrapes; i++) {
        const t0 = performance.now();
        const response = await fetch(url);
        last = await response.text();
        times.push(performance.now() - t0);
        if (response.status !== 200) throw new Error(`scrape ${i}: ${response.status}`);
        await sleep(intervalMs);
      }
      const gauge = (name, labels = '') =>
        Number(
          new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(last)?.[1],
        );
      const pending = gauge('jobsmith_queue_size', '{queue="default",state="pending"}');
      if (pending !== jobs)
        throw new Error(`${backend}: metrics:serve shows ${pending} pending of ${jobs}`);
      const readS = gauge('jobsmith_metrics_refresh_duration_seconds');
      const r = {
        backend,
        jobs,
        fillSeconds: fillS,
        startSeconds: startS,
        readSeconds: readS,
        firstScrapeMs: firstMs,
        scrapeMs: {
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          p99: percentile(times, 99),
          max: Math.max(...times),
        },
      };
      r.goal = r.scrapeMs.max < 50;
      results.push(r);
      console.log(
        `scrape ${backend.padEnd(6)} ${jobs} jobs (stored in ${fillS.toFixed(1)} s; metrics:serve up in ${startS.toFixed(1)} s)  ` +
          `scrape p50 ${r.scrapeMs.p50.toFixed(1)} ms, p99 ${r.scrapeMs.p99.toFixed(1)} ms, max ${r.scrapeMs.max.toFixed(1)} ms ` +
          `(goal < 50 ms: ${r.goal ? 'met' : 'missed'}; the first, cold: ${firstMs.toFixed(0)} ms)  one read of the storage: ${(readS * 1000).toFixed(0)} ms`,
      );
    } finally {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
      await b.close();
    }
  }
  return { scrapes, intervalMs, refresh, results };
}

// ---- main ---------------------------------------------------------------------------------

if (args.has('child')) {
  await runChild(JSON.parse(args.get('child')));
} else {
  const part = arg('part', 'both', 'both');
  const backends = String(arg('backends', 'sqlite,pgsql,redis', 'sqlite')).split(',');
  const out = { cpus: cpus().length, node: process.version };
  if (part === 'throughput' || part === 'both') out.throughput = await throughput(backends);
  if (part === 'scrape' || part === 'both') {
    const scrapeBackends = args.has('backends') ? backends : backends.filter((b) => b !== 'redis');
    out.scrape = await scrapePart(scrapeBackends);
  }
  out.loadavg = loadavg();
  console.log(JSON.stringify(out));
}
