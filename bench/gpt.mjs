#!/usr/bin/env node
// The `gpt` workload: GPT jobs per second through the worker, against the fake OpenAI server
// (test/doubles/openai, run as its own process, no added latency), next to the `openai` client
// called in a plain loop at the same concurrency (the ceiling: the same server, the same client,
// no queue). Issue 14's goal: the worker at 0.9x the loop or better.
//
//   npm run build && node bench/gpt.mjs [--backends sqlite,pgsql,redis] [--jobs 3000]
//     [--concurrency 8] [--prefetch 0]
//
// - loop: --concurrency async loops over --jobs requests (maxRetries 0), after 200 to warm up;
//   requests per second from the first request to the last answer.
// - worker (per backend): --jobs gpt.complete jobs dispatched up front, then one `run queue:work
//   --queue gpt --concurrency <--concurrency> --stop-when-empty`; jobs per second from the first
//   row's created_at to the last row's finished_at in gpt_requests (so the process's start-up is
//   not counted), after a warm-up of 200 jobs in the same process.
//
// Each backend uses its own temp dir, PostgreSQL database or Redis prefix, removed at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { epoch, jobsmith, requireFromRoot, ROOT_DIR, benchStorage } from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const BACKENDS = String(args.get('backends') ?? 'sqlite,pgsql,redis')
  .split(',')
  .filter(Boolean);
const JOBS = Number(args.get('jobs') ?? 3000);
const CONCURRENCY = Number(args.get('concurrency') ?? 8);
const PREFETCH = Number(args.get('prefetch') ?? 0);
const WARM = 200;
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Starts the fake server process; resolves with its baseURL, apiKey and a stop(). */
async function startServer() {
  const jitiCli = requireFromRoot
    .resolve('jiti/package.json')
    .replace(/package\.json$/, 'lib/jiti-cli.mjs');
  const child = spawn(process.execPath, [jitiCli, join(ROOT_DIR, 'test/doubles/openai/serve.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { baseURL, apiKey } = JSON.parse((await lines.next()).value);
  return { baseURL, apiKey, stop: () => child.kill('SIGTERM') };
}

/** The openai client in --concurrency loops over `n` requests; requests per second. */
async function loop(server, n) {
  const { default: OpenAI } = await import(requireFromRoot.resolve('openai'));
  const client = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 });
  const run = async (count) => {
    let next = 0;
    const one = async () => {
      while (next < count) {
        next += 1;
        const r = await client.chat.completions.create({
          model: 'fake-model',
          messages: [{ role: 'user', content: `request ${next}` }],
        });
        if (!r.choices[0].message.content) throw new Error('empty reply');
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, one));
  };
  await run(WARM);
  const t0 = epoch();
  await run(n);
  return n / ((epoch() - t0) / 1000);
}

const CONFIG = `import { defineConfig } from 'jobsmith';
export default defineConfig({ gpt: {} });
`;

/** One worker process on `backend` over `n` jobs; jobs per second. */
async function worker(backend, server, n) {
  const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-gpt-'));
  writeFileSync(join(dir, 'jobsmith.config.ts'), CONFIG);
  const storage = await benchStorage(backend, dir, 'gpt');
  const { vars } = storage;
  const env = {
    ...process.env,
    NO_COLOR: '1',
    LOG_LEVEL: 'warn',
    ...vars,
    OPENAI_API_KEY: server.apiKey,
    OPENAI_BASE_URL: server.baseURL,
    OPENAI_MODEL: 'fake-model',
  };
  const run = (argv, input) =>
    new Promise((resolve, reject) => {
      // BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the worker.
      const nodeArgs = argv[0] === 'queue:work' ? WORKER_NODE_ARGS : [];
      const child = spawn(process.execPath, [...nodeArgs, join(ROOT_DIR, 'bin/run'), ...argv], {
        cwd: dir,
        env,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end(input ?? '');
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`run ${argv[0]}: ${stderr}`)),
      );
    });
  const payloads = (count, tag) =>
    Array.from({ length: count }, (_, i) => JSON.stringify({ prompt: `${tag} ${i}` })).join('\n') +
    '\n';
  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  try {
    await run(['migrate']);
    // Warm-up jobs first, then the measured ones: one process does both, in order.
    await run(['queue:dispatch', 'gpt.complete'], payloads(WARM, 'warm'));
    await run(['queue:dispatch', 'gpt.complete'], payloads(n, 'job'));
    const work = [
      'queue:work',
      '--queue',
      'gpt',
      '--concurrency',
      String(CONCURRENCY),
      '--stop-when-empty',
    ];
    if (PREFETCH > 0) work.push('--prefetch', String(PREFETCH));
    await run(work);
    const db = await openDatabase(parseEnv(vars), dir);
    try {
      const rows = await db
        .knex('gpt_requests')
        .where('prompt', 'like', '%"job %')
        .select('status', 'created_at', 'finished_at');
      const done = rows.filter((r) => r.status === 'succeeded');
      if (done.length !== n) throw new Error(`${backend}: ${done.length} of ${n} jobs succeeded`);
      const first = Math.min(...done.map((r) => Number(r.created_at)));
      const last = Math.max(...done.map((r) => Number(r.finished_at)));
      return n / ((last - first) / 1000);
    } finally {
      await db.knex.destroy();
    }
  } finally {
    await storage.remove();
  }
}

const server = await startServer();
try {
  const ceiling = await loop(server, JOBS);
  console.log(
    `openai client, plain loop, concurrency ${CONCURRENCY}: ${ceiling.toFixed(0)} requests/s`,
  );
  for (const backend of BACKENDS) {
    const rate = await worker(backend, server, JOBS);
    console.log(
      `gpt.complete through one worker (${backend}, --concurrency ${CONCURRENCY}${PREFETCH ? `, --prefetch ${PREFETCH}` : ''}): ${rate.toFixed(0)} jobs/s = ${(rate / ceiling).toFixed(2)}x`,
    );
  }
} finally {
  server.stop();
}
