#!/usr/bin/env node
// Bulk dispatch: `run queue:dispatch NAME --json < N lines of NDJSON`, as a user runs it, on each
// backend: wall time and the peak RSS of the `run` process (the client), and that every job was
// stored. Targets (issue 11, item 6): 1,000,000 lines under 200 MB of client memory on every
// backend, memory that does not grow with the input.
//
//   npm run build && node bench/bulk-dispatch.mjs --lines 1000000
//   node bench/bulk-dispatch.mjs --backend pgsql --lines 100000 --unique --rounds 3
//   node bench/bulk-dispatch.mjs --lines 100000 --root /tmp/jobsmith-before   # another build
//
// Needs nothing but Node.js and jobsmith's own dependencies (not bench/node_modules). Each run
// gets fresh storage: an SQLite file in a temporary folder, a PostgreSQL database created on
// BENCH_DATABASE_URL's server and dropped afterwards, a Redis key prefix deleted afterwards.
// `--root DIR` runs another checkout's bin/run and dist/ (a before/after; make one with
// `git archive COMMIT | tar -x -C DIR`, link node_modules, `npm run build` there).
// Results go to bench/results/<date>-bulk-dispatch.{json,md} (`--out DIR` elsewhere).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const OURS = fileURLToPath(new URL('..', import.meta.url));
const requireFromRoot = createRequire(join(OURS, 'package.json'));

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) =>
      a.startsWith('--') ? [[a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : [],
    ),
);
if (args.has('help')) {
  console.log(
    'Usage: node bench/bulk-dispatch.mjs [--backend sqlite,pgsql,redis] [--lines N] [--rounds N] [--unique] [--root DIR] [--out DIR]',
  );
  process.exit(0);
}
const BACKENDS = (args.get('backend') || 'sqlite,pgsql,redis').split(',');
const LINES = Number(args.get('lines') || 1_000_000);
const ROUNDS = Number(args.get('rounds') || 1);
const UNIQUE = args.has('unique');
const ROOT = resolve(args.get('root') || OURS);
const OUT = args.get('out') || join(HERE, 'results');
const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const work = mkdtempSync(join(tmpdir(), 'jobsmith-bench-bulk-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// The job: a schema as a real one has, and (--unique) a unique key per payload.
const CONFIG = `
import { defineConfig, defineJob } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/index.js')).href)};
const bulk = defineJob({
  name: 'bulk.job',
  ${UNIQUE ? "unique: { key: (p) => 'user:' + p.userId, for: 3600 }," : ''}
  async handle() {},
});
export default defineConfig({ jobs: [bulk] });
`;

/** Peak RSS of the process it is loaded into, written to BENCH_RSS_FILE at exit (in bytes). */
const RSS_HOOK = join(work, 'rss-hook.mjs');
writeFileSync(
  RSS_HOOK,
  `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));\n`,
);

function writeInput(lines) {
  const file = join(work, `input-${lines}.ndjson`);
  const fd = openSync(file, 'w');
  let chunk = [];
  for (let n = 1; n <= lines; n++) {
    chunk.push(JSON.stringify({ userId: n, text: `hello ${n}` }));
    if (chunk.length === 10_000) {
      writeSync(fd, `${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length) writeSync(fd, `${chunk.join('\n')}\n`);
  closeSync(fd);
  return file;
}

function run(cwd, env, argv, { stdin = 'ignore', stdout = 'pipe', rssFile } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(rssFile ? ['--import', pathToFileURL(RSS_HOOK).href] : []),
        join(ROOT, 'bin/run'),
        ...argv,
      ],
      {
        cwd,
        env: {
          ...process.env,
          ...env,
          NO_COLOR: '1',
          ...(rssFile ? { BENCH_RSS_FILE: rssFile } : {}),
        },
        stdio: [stdin, stdout, 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(out)
        : reject(new Error(`run ${argv.join(' ')} exited ${code}: ${err.slice(0, 2000)}`)),
    );
  });
}

async function withPg(url, fn) {
  const pg = requireFromRoot('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropRedisPrefix(prefix) {
  const { Redis } = requireFromRoot('ioredis');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

/** Fresh storage for one round: the app's environment and how to remove it. */
async function storage(backend, dir) {
  const id = randomBytes(4).toString('hex');
  if (backend === 'pgsql') {
    const name = `jobsmith_bench_bulk_${id}`;
    await withPg(PG_ADMIN_URL, (c) => c.query(`create database ${name}`));
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      env: { DB_CONNECTION: 'pgsql', DATABASE_URL: url.toString() },
      drop: () =>
        withPg(PG_ADMIN_URL, (c) => c.query(`drop database if exists ${name} with (force)`)),
    };
  }
  const base = { DB_CONNECTION: 'sqlite', DB_DATABASE: join(dir, 'database.sqlite') };
  if (backend === 'redis') {
    const prefix = `jsbench-bulk-${id}`;
    return {
      env: { ...base, QUEUE_CONNECTION: 'redis', REDIS_URL, REDIS_PREFIX: prefix },
      drop: () => dropRedisPrefix(prefix),
    };
  }
  return { env: base, drop: async () => {} };
}

async function round(backend, input) {
  const dir = mkdtempSync(join(work, `${backend}-`));
  writeFileSync(join(dir, 'jobsmith.config.mjs'), CONFIG);
  const { env: storageEnv, drop } = await storage(backend, dir);
  const env = {
    ...storageEnv,
    JOBSMITH_CONFIG: 'jobsmith.config.mjs',
    LOG_FILE: join(dir, 'app.log'),
  };
  try {
    await run(dir, env, ['migrate']);
    const rssFile = join(dir, 'rss');
    const stdinFd = openSync(input, 'r');
    const stdoutFd = openSync(join(dir, 'ids.json'), 'w');
    const started = performance.now();
    try {
      await run(dir, env, ['queue:dispatch', 'bulk.job', '--json'], {
        stdin: stdinFd,
        stdout: stdoutFd,
        rssFile,
      });
    } finally {
      closeSync(stdinFd);
      closeSync(stdoutFd);
    }
    const seconds = (performance.now() - started) / 1000;
    const peakRss = Number(readFileSync(rssFile, 'utf8'));
    const sizes = JSON.parse(await run(dir, env, ['queue:size', 'default', '--json']));
    return { seconds, peakRssMb: peakRss / 1_048_576, stored: sizes[0].pending };
  } finally {
    await drop();
  }
}

const input = writeInput(LINES);
const results = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const backend of BACKENDS) {
    const result = await round(backend, input);
    results.push({ backend, round: r + 1, ...result });
    console.log(
      `${backend.padEnd(6)} round ${r + 1}: ${result.seconds.toFixed(1)} s, peak RSS ${result.peakRssMb.toFixed(0)} MB, stored ${result.stored}`,
    );
    // Every payload has its own user id: unique or not, every line is a job.
    if (result.stored !== LINES) {
      console.error(`  expected ${LINES} stored jobs, found ${result.stored}`);
      process.exitCode = 1;
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows = BACKENDS.map((backend) => {
  const mine = results.filter((r) => r.backend === backend);
  return {
    backend,
    seconds: median(mine.map((r) => r.seconds)),
    peakRssMb: median(mine.map((r) => r.peakRssMb)),
    maxPeakRssMb: Math.max(...mine.map((r) => r.peakRssMb)),
  };
});
const date = new Date().toISOString().slice(0, 10);
const label = `${date}-bulk-dispatch${UNIQUE ? '-unique' : ''}-${LINES}`;
const meta = {
  date,
  lines: LINES,
  unique: UNIQUE,
  rounds: ROUNDS,
  root: ROOT === resolve(OURS) ? '.' : ROOT,
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  loadavg: loadavg().map((l) => l.toFixed(1)),
};
const md = [
  `# Bulk dispatch, ${LINES.toLocaleString('en-US')} lines${UNIQUE ? ' (unique jobs)' : ''}`,
  '',
  `\`run queue:dispatch bulk.job --json < ${LINES} lines\`, ${ROUNDS} round(s), median; Node.js ${meta.node}, ${meta.cpus}, load ${meta.loadavg.join(' ')} at the end.`,
  '',
  '| Backend | Time | Peak RSS of the client |',
  '| ------- | ---: | ---------------------: |',
  ...rows.map(
    (r) =>
      `| ${r.backend} | ${r.seconds.toFixed(1)} s | ${r.peakRssMb.toFixed(0)} MB${ROUNDS > 1 ? ` (max ${r.maxPeakRssMb.toFixed(0)})` : ''} |`,
  ),
  '',
].join('\n');
console.log(`\n${md}`);
if (!args.has('no-write')) {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${label}.json`), `${JSON.stringify({ meta, results }, null, 2)}\n`);
  writeFileSync(join(OUT, `${label}.md`), md);
}
