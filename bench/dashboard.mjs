#!/usr/bin/env node
// The dashboard's cost on a big store (issue 17): with 1,000,000 jobs and 100,000 failed jobs
// stored on each backend (plus a day of per-minute metrics and 100,000 finished jobs in history),
// the p95 latency of the list endpoints and of the overview over real HTTP (goals: ≤ 50 ms and
// ≤ 100 ms), and the first load of the pages in Chromium (when /usr/bin/chromium or
// BENCH_CHROMIUM is there).
//
//   npm run build && node bench/dashboard.mjs
//   node bench/dashboard.mjs --backend sqlite --jobs 100000 --failed 10000 --requests 50
//
// The server is the one `run serve` starts (createDashboardHandler on node:http), in this
// process, on 127.0.0.1. Each endpoint is asked --requests times one after another (a first,
// unmeasured request warms it); a deep page is the page after a cursor taken half-way through.
// Each backend gets fresh storage (bench/lib.mjs benchStorage), removed afterwards. Results go to
// bench/results/<date>-dashboard.{json,md} (`--out DIR` elsewhere).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, benchStorage, jobsmith, percentile, requireFromRoot } from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) =>
      a.startsWith('--') ? [[a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : [],
    ),
);
if (args.has('help')) {
  console.log(
    'Usage: node bench/dashboard.mjs [--backend sqlite,pgsql,redis] [--jobs N] [--failed N] [--history N] [--requests N] [--out DIR]',
  );
  process.exit(0);
}
const BACKENDS = (args.get('backend') || 'sqlite,pgsql,redis').split(',');
const JOBS = Number(args.get('jobs') || 1_000_000);
const FAILED = Number(args.get('failed') || 100_000);
const HISTORY = Number(args.get('history') || 100_000);
const REQUESTS = Number(args.get('requests') || 200);
const OUT = args.get('out') || join(BENCH_DIR, 'results');
const CHROMIUM = process.env.BENCH_CHROMIUM || '/usr/bin/chromium';

/** Where the seeded jobs go: three queues of different sizes, as an app has. */
const QUEUES = [
  { queue: 'default', share: 0.7, names: ['report.build', 'invoice.send', 'user.sync'] },
  { queue: 'mail', share: 0.2, names: ['mail.send'] },
  { queue: 'telegram', share: 0.1, names: ['telegram.send'] },
];
const BATCH = 5_000;

const DAY_MS = 86_400_000;

async function seedJobs(driver) {
  for (const { queue, share, names } of QUEUES) {
    const count = Math.round(JOBS * share);
    for (let start = 0; start < count; start += BATCH) {
      const jobs = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        jobs.push({
          name: names[i % names.length],
          queue,
          payload: JSON.stringify({ userId: i, text: 'x'.repeat(40) }),
          priority: 0,
          maxTries: 3,
          // One in ten is delayed by a day, so the delayed lists are not empty.
          delayMs: i % 10 === 0 ? DAY_MS : 0,
          tags: i % 100 === 0 ? [`user:${i}`] : undefined,
        });
      }
      await driver.push(jobs);
    }
  }
}

/** Rows in chunks small enough for SQLite (knex writes a compound SELECT of at most 500 terms). */
async function insertRows(knex, table, total, row) {
  const chunk = 400;
  for (let start = 0; start < total; start += chunk) {
    const rows = [];
    for (let i = start; i < Math.min(total, start + chunk); i++) rows.push(row(i));
    await knex(table).insert(rows);
  }
}

async function seedSql(knex, connection) {
  const now = Date.now();
  const stack = 'Error: upstream answered 502\n    at handle (jobs/report.ts:12:11)\n'.repeat(4);
  await insertRows(knex, 'failed_jobs', FAILED, (i) => ({
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    connection,
    queue: QUEUES[i % 3].queue,
    name: QUEUES[i % 3].names[0],
    payload: JSON.stringify({ userId: i }),
    exception: stack,
    reason: 'error',
    attempts: 3,
    priority: 0,
    original_id: String(i),
    failed_at: now - (i % 10_000) * 60_000,
  }));
  await insertRows(knex, 'job_history', HISTORY, (i) => ({
    connection,
    id: `h${i}`,
    queue: QUEUES[i % 3].queue,
    name: QUEUES[i % 3].names[0],
    status: i % 20 === 0 ? 'failed' : 'succeeded',
    attempts: 1,
    payload: JSON.stringify({ userId: i }),
    result: JSON.stringify({ ok: true }),
    dispatched_at: now - i * 500 - 100,
    started_at: now - i * 500 - 50,
    finished_at: now - i * 500,
    runtime_ms: 50,
    expires_at: now + DAY_MS,
  }));
  // A day of per-minute metrics for every queue and job name.
  const minutes = 1_440;
  const pairs = QUEUES.flatMap(({ queue, names }) => names.map((name) => ({ queue, name })));
  const startMinute = Math.floor(now / 60_000) * 60_000 - (minutes - 1) * 60_000;
  await insertRows(knex, 'job_metrics', minutes * pairs.length, (i) => ({
    minute: startMinute + Math.floor(i / pairs.length) * 60_000,
    ...pairs[i % pairs.length],
    processed: 60,
    succeeded: 57,
    failed: 3,
    runtime_count: 60,
    runtime_sum_ms: 3_000,
    runtime_max_ms: 400,
    rt_le_50ms: 40,
    rt_le_100ms: 15,
    rt_le_500ms: 5,
    wait_sum_ms: 600,
    wait_count: 60,
  }));
}

async function time(url) {
  const start = performance.now();
  const response = await fetch(url);
  const body = await response.text();
  const ms = performance.now() - start;
  if (!response.ok) throw new Error(`${url}: ${response.status} ${body.slice(0, 200)}`);
  return { ms, body };
}

/** A cursor half-way through a list: follows `next` for a few pages of the largest size. */
async function deepCursor(base, path, key) {
  let after;
  for (let page = 0; page < 20; page++) {
    const url = `${base}${path}${path.includes('?') ? '&' : '?'}limit=500${after ? `&after=${after}` : ''}`;
    const { body } = await time(url);
    const parsed = JSON.parse(body);
    if (!parsed.next || parsed[key].length === 0) break;
    after = parsed.next;
  }
  return after;
}

async function measure(base) {
  const endpoints = [
    ['overview (1h)', '/api/overview?since=1h', 100],
    ['overview (24h)', '/api/overview?since=24h', 100],
    ['queues', '/api/queues', 50],
    ['jobs: pending, first page', '/api/jobs?queue=default&state=pending', 50],
    ['jobs: delayed, first page', '/api/jobs?queue=default&state=delayed', 50],
    ['jobs: by tag', '/api/jobs?queue=default&tag=user:500', 50],
    ['failed: first page', '/api/failed', 50],
    ['failed: one queue', '/api/failed?queue=mail', 50],
    ['history: first page', '/api/history', 50],
    ['history: failed', '/api/history?status=failed', 50],
    ['workers', '/api/workers', 50],
    ['stats (1h, by queue)', '/api/stats?since=1h&by=queue', 100],
  ];
  const deep = [
    ['jobs: pending, page after 10,000', '/api/jobs?queue=default&state=pending', 'jobs'],
    ['failed: page after 10,000', '/api/failed', 'jobs'],
    ['history: page after 10,000', '/api/history', 'jobs'],
  ];
  for (const [label, path, key] of deep) {
    const cursor = await deepCursor(base, path, key).catch(() => undefined);
    if (cursor)
      endpoints.push([label, `${path}${path.includes('?') ? '&' : '?'}after=${cursor}`, 50]);
  }
  const rows = [];
  for (const [label, path, goal] of endpoints) {
    try {
      await time(base + path);
      const times = [];
      for (let i = 0; i < REQUESTS; i++) times.push((await time(base + path)).ms);
      rows.push({ label, path, goal, p50: percentile(times, 50), p95: percentile(times, 95) });
    } catch (error) {
      rows.push({ label, path, goal, error: String(error.message ?? error).slice(0, 200) });
    }
    const last = rows.at(-1);
    console.log(
      `  ${label}: ${last.error ?? `p50 ${last.p50.toFixed(1)} ms, p95 ${last.p95.toFixed(1)} ms (goal ≤ ${goal})`}`,
    );
  }
  return rows;
}

/** The first load of the pages in a fresh Chromium: from navigation to the overview drawn. */
async function firstLoad(base) {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM}` };
  const { chromium } = requireFromRoot('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const loads = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const start = performance.now();
      await page.goto(`${base}/`, { waitUntil: 'commit' });
      // Loaded: the overview's numbers and its charts are drawn from the API's answers.
      await page.locator('[data-testid^="stat-"]').first().waitFor();
      await page.locator('figure.chart canvas').first().waitFor();
      loads.push(performance.now() - start);
      await context.close();
    }
    return { medianMs: percentile(loads, 50), maxMs: Math.max(...loads) };
  } finally {
    await browser.close();
  }
}

const results = [];
for (const backend of BACKENDS) {
  const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-dashboard-'));
  const storage = await benchStorage(backend, dir, 'dash');
  const env = { LOG_LEVEL: 'silent', ...storage.vars };
  writeFileSync(
    join(dir, '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const { App } = await jobsmith('cli/app.js');
  const { createDashboardHandler } = await jobsmith('http/handler.js');
  const app = new App(dir);
  let server;
  let handler;
  try {
    console.log(`${backend}: seeding ${JOBS} jobs, ${FAILED} failed, ${HISTORY} in history…`);
    const seedStart = performance.now();
    const db = await app.db();
    const driver = await app.queues().get();
    await seedJobs(driver);
    await seedSql(db.knex, backend === 'redis' ? 'redis' : 'database');
    console.log(`  seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`);
    handler = createDashboardHandler({ cwd: dir });
    server = createServer(handler);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    const endpoints = await measure(base);
    const load = await firstLoad(base).catch((error) => ({ error: String(error.message) }));
    console.log(`  first load: ${JSON.stringify(load)}`);
    results.push({ backend, endpoints, firstLoad: load });
  } finally {
    server?.close();
    await handler?.close();
    await app.close();
    await storage.remove();
  }
}

const date = new Date().toISOString().slice(0, 10);
mkdirSync(OUT, { recursive: true });
const machine = `${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()[0].toFixed(2)}, Node ${process.version}`;
const report = {
  date,
  jobs: JOBS,
  failed: FAILED,
  history: HISTORY,
  requests: REQUESTS,
  machine,
  results,
};
writeFileSync(join(OUT, `${date}-dashboard.json`), `${JSON.stringify(report, null, 2)}\n`);
const lines = [
  `# Dashboard latency, ${date}`,
  '',
  `${JOBS.toLocaleString('en')} jobs, ${FAILED.toLocaleString('en')} failed jobs, ${HISTORY.toLocaleString('en')} finished jobs in history and a day of per-minute metrics on each backend; ${REQUESTS} requests per endpoint over HTTP on 127.0.0.1, one at a time. Machine: ${machine}.`,
  '',
  '| backend | endpoint | p50 ms | p95 ms | goal (p95) |',
  '| --- | --- | ---: | ---: | ---: |',
  ...results.flatMap(({ backend, endpoints }) =>
    endpoints.map((e) =>
      e.error
        ? `| ${backend} | ${e.label} | — | — | ${e.error} |`
        : `| ${backend} | ${e.label} | ${e.p50.toFixed(1)} | ${e.p95.toFixed(1)} | ≤ ${e.goal} ${e.p95 <= e.goal ? '✓' : '✗'} |`,
    ),
  ),
  '',
  "| backend | first load in Chromium, to the overview's numbers and charts drawn (median of 5, fresh profile each) |",
  '| --- | --- |',
  ...results.map(
    ({ backend, firstLoad: l }) =>
      `| ${backend} | ${l.medianMs ? `${l.medianMs.toFixed(0)} ms (max ${l.maxMs.toFixed(0)})` : (l.skipped ?? l.error)} |`,
  ),
  '',
];
writeFileSync(join(OUT, `${date}-dashboard.md`), lines.join('\n'));
console.log(`Results: ${join(OUT, `${date}-dashboard.md`)}`);
