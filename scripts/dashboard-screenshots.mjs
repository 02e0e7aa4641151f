#!/usr/bin/env node
// Screenshots of the dashboard's main pages for docs/dashboard.md (docs/dashboard-*.png):
// `npm run build && node scripts/dashboard-screenshots.mjs`. Needs Chromium (Debian:
// apt-get install chromium; CHROMIUM=/path/to/chrome to use another).
//
// A scratch app in a temp folder, on SQLite: real jobs dispatched and worked by `run` (so the
// tables, errors and timelines are what users see), plus an hour of made-up per-minute metrics
// so the charts have a shape (one worker run fills a single minute).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = path.join(root, 'bin/run');
const { createDashboardHandler } = await import(path.join(root, 'dist/src/http/handler.js'));

const CONFIG = `
import { defineConfig, defineJob, Permanent } from 'jobsmith';
import { z } from 'zod';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const send = defineJob({
  name: 'mail.send',
  queue: 'mail',
  retain: { succeeded: '1d' },
  schema: z.object({ to: z.string(), template: z.string() }),
  async handle() { await sleep(20); return { accepted: true }; },
});
export const build = defineJob({
  name: 'report.build',
  queue: 'reports',
  retain: { succeeded: '1d' },
  schema: z.object({ month: z.string() }),
  async handle(p: { month: string }) { await sleep(50); return { rows: 1280, month: p.month }; },
});
export const deliver = defineJob({
  name: 'webhook.deliver',
  queue: 'webhooks',
  schema: z.object({ url: z.string(), event: z.string() }),
  async handle(p: { url: string }) {
    throw new Permanent('POST ' + p.url + ' answered 410 Gone');
  },
});

export default defineConfig({ jobs: [send, build, deliver] });
`;

function cli(cwd, args, input) {
  return execFileSync(process.execPath, [run, ...args], { cwd, input, encoding: 'utf8' });
}

function dispatch(cwd, name, payloads) {
  cli(cwd, ['queue:dispatch', name, '--json'], payloads.map((p) => JSON.stringify(p)).join('\n'));
}

/** An hour of per-minute counts with a daily-traffic look, written where workers write theirs. */
function fakeMetrics(file) {
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT OR REPLACE INTO job_metrics (minute, queue, name, processed, succeeded, failed,
       runtime_count, runtime_sum_ms, runtime_max_ms, rt_le_10ms, rt_le_50ms, rt_le_100ms, rt_le_250ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  for (let i = 60; i >= 1; i--) {
    const minute = now - i * 60_000;
    const wave = Math.round(40 + 25 * Math.sin(i / 7) + ((i * 37) % 11));
    const failed = i % 13 === 0 ? 6 : i % 5 === 0 ? 1 : 0;
    const fast = Math.round(wave * 0.6);
    const mid = Math.round(wave * 0.3);
    const slow = wave - fast - mid;
    insert.run(
      minute,
      'mail',
      'mail.send',
      wave,
      wave - failed,
      failed,
      wave,
      wave * (35 + (i % 9) * 4),
      240,
      0,
      fast,
      mid,
      slow,
    );
  }
  db.close();
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'jobsmith-screenshots-'));
let server;
let context;
try {
  writeFileSync(path.join(dir, 'jobsmith.config.ts'), CONFIG);
  writeFileSync(path.join(dir, '.env'), 'DB_CONNECTION=sqlite\nQUEUE_CONNECTION=database\n');
  cli(dir, ['migrate']);
  dispatch(
    dir,
    'mail.send',
    [1, 2, 3, 4, 5, 6].map((n) => ({ to: `user${n}@example.com`, template: 'welcome' })),
  );
  dispatch(dir, 'report.build', [{ month: '2026-10' }, { month: '2026-11' }]);
  dispatch(
    dir,
    'webhook.deliver',
    ['order.paid', 'order.shipped', 'refund.created'].map((event) => ({
      url: 'https://shop.example/hooks',
      event,
    })),
  );
  cli(dir, ['queue:work', '--queue', 'mail,reports,webhooks', '--stop-when-empty']);
  dispatch(
    dir,
    'mail.send',
    [7, 8, 9].map((n) => ({ to: `user${n}@example.com`, template: 'digest' })),
  );
  dispatch(dir, 'report.build', [{ month: '2026-12' }]);
  cli(dir, ['queue:pause', 'reports']);
  fakeMetrics(path.join(dir, 'storage/database.sqlite'));

  const handler = createDashboardHandler({ cwd: dir });
  server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const failed = await (await fetch(`${url}api/failed?queue=webhooks`)).json();
  const jobId = failed.jobs[0]?.original_id;

  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  });
  const page = await context.newPage();
  const shots = [
    ['overview', '#/', '.chart canvas'],
    ['queues', '#/queues', '[data-testid="queue-reports"]'],
    ['failed', '#/failed', '[data-testid^="failed-"]'],
    ['job', `#/jobs/${jobId}`, '.timeline li'],
  ];
  for (const [name, hash, ready] of shots) {
    await page.goto(`${url}${hash}`);
    await page.locator(ready).first().waitFor({ timeout: 15_000 });
    const file = path.join(root, 'docs', `dashboard-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(root, file)}`);
  }
} finally {
  await context?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
}
// The dashboard's storage connections would keep the process alive.
process.exit(0);
