// The workloads, each measuring one contender once (one round). run.mjs interleaves them.
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, epoch, percentile, ROOT_DIR, sleep } from './lib.mjs';

const CHILD = join(BENCH_DIR, 'child.mjs');

/** Forks bench/child.mjs for `task`; messages are awaited by type. */
function spawnChild(task) {
  const child = fork(CHILD, [JSON.stringify(task)], {
    // BENCH_NODE_ARGS: extra flags for the contender processes, e.g. `--cpu-prof` to profile.
    execArgv: ['--expose-gc', ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox = [];
  const waiting = [];
  let exited = false;
  child.on('message', (msg) => {
    const i = waiting.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
    else inbox.push(msg);
  });
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  void exit.then((code) => {
    exited = true;
    for (const w of waiting.splice(0)) {
      w.reject(new Error(`${task.module} child exited with ${code} before "${w.type}"`));
    }
  });
  return {
    child,
    exit,
    next(type, timeoutMs = 120_000) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      if (exited) return Promise.reject(new Error(`${task.module} child has exited`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${task.module}: no "${type}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.push({
          type,
          resolve: (m) => (clearTimeout(timer), resolve(m)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
      });
    },
    name: `${task.module}${task.variant ? `/${task.variant}` : ''}`,
    send: (msg) => child.send(msg),
    kill: () => child.kill('SIGKILL'),
  };
}

function task(c, extra) {
  return { module: c.module, variant: c.variant, ctx: c.ctx, ...extra };
}

/** Starts `processes` worker processes, each ready (connected) before any is told to go. */
async function startWorkers(c, processes, concurrency) {
  const kids = Array.from({ length: processes }, () =>
    spawnChild(task(c, { mode: 'worker', concurrency })),
  );
  try {
    await Promise.all(kids.map((k) => k.next('ready')));
  } catch (error) {
    kids.forEach((k) => k.kill());
    throw error;
  }
  return kids;
}

async function stopWorkers(kids) {
  const stopped = await Promise.all(
    kids.map(async (k) => {
      k.send({ cmd: 'stop' });
      try {
        const m = await k.next('stopped', 30_000);
        const exited = await Promise.race([k.exit.then(() => true), sleep(5000)]);
        if (!exited) {
          console.error(`! ${k.name} did not exit 5 s after stopping; killed`);
          k.kill();
        }
        return m.started;
      } catch {
        k.kill();
        return 0;
      }
    }),
  );
  return stopped.reduce((a, b) => a + b, 0);
}

/**
 * Burn-down: `jobs` no-op jobs inserted with the workers stopped, then `processes` worker
 * processes at `concurrency` each drain them. The clock runs from the first job's start (in
 * any process) until the contender's storage holds no unfinished job (polled every 10 ms), or
 * until `maxSeconds`, whichever comes first; jobs/s counts the jobs finished by then.
 */
export async function burnDown(c, { jobs, concurrency, processes = 1, maxSeconds }) {
  await c.handle.reset();
  await c.handle.insert(jobs);
  const kids = await startWorkers(c, processes, concurrency);
  const load = loadavg()[0];
  const t0 = epoch();
  kids.forEach((k) => k.send({ cmd: 'go' }));
  const firsts = kids.map((k) => k.next('first', maxSeconds * 1000 + 30_000));
  const first = (await Promise.any(firsts)).at;
  const deadline = first + maxSeconds * 1000;
  let left = jobs;
  while ((left = await c.handle.remaining()) > 0 && epoch() < deadline) await sleep(10);
  const end = epoch();
  const started = await stopWorkers(kids);
  const done = jobs - left;
  const seconds = (end - first) / 1000;
  return {
    value: done / seconds,
    jobs: done,
    seconds,
    capped: left > 0,
    startupMs: first - t0,
    started,
    load,
  };
}

/** Enqueue: `jobs` one awaited call at a time (`single`), or in calls of `bulkSize`. */
export async function enqueue(c, { kind, jobs, bulkSize = 1000, maxSeconds }) {
  await c.handle.reset();
  const load = loadavg()[0];
  const kid = spawnChild(task(c, { mode: 'enqueue', kind, jobs, bulkSize, maxSeconds }));
  const r = await kid.next('result', maxSeconds * 1000 + 60_000);
  await kid.exit;
  return { value: r.jobs / r.seconds, jobs: r.jobs, seconds: r.seconds, load };
}

/** Pickup latency at low load: sequential samples, enqueue call → handler start, in one process. */
export async function pickup(c, { samples, maxSeconds, warmup = 10 }) {
  await c.handle.reset();
  const load = loadavg()[0];
  const kid = spawnChild(task(c, { mode: 'pickup', samples, warmup, maxSeconds }));
  const r = await kid.next('result', maxSeconds * 1000 + 60_000);
  await kid.exit;
  const l = r.latencies;
  return {
    value: percentile(l, 50),
    p50: percentile(l, 50),
    p95: percentile(l, 95),
    p99: percentile(l, 99),
    max: Math.max(...l),
    samples: l.length,
    latencies: l.map((x) => Math.round(x * 1000) / 1000),
    load,
  };
}

/**
 * Worker memory: one worker process at `concurrency`; RSS and heap after GC when idle, then
 * after each chunk of `chunk` jobs (inserted while it runs) is drained.
 */
export async function memory(c, { chunks, chunk, concurrency }) {
  await c.handle.reset();
  const [kid] = await startWorkers(c, 1, concurrency);
  const load = loadavg()[0];
  const sample = async (jobs) => {
    kid.send({ cmd: 'rss' });
    const m = await kid.next('rss');
    return { jobs, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 };
  };
  kid.send({ cmd: 'go' });
  await sleep(1000);
  const samples = [await sample(0)];
  for (let i = 1; i <= chunks; i++) {
    await c.handle.insert(chunk);
    while ((await c.handle.remaining()) > 0) await sleep(50);
    samples.push(await sample(i * chunk));
  }
  await stopWorkers([kid]);
  const at = (n) => samples.find((s) => s.jobs === n);
  const last = samples[samples.length - 1];
  const first = at(Math.min(100_000, last.jobs)) ?? samples[1];
  return {
    value: last.rssMb,
    idleRssMb: samples[0].rssMb,
    growthMb: last.rssMb - first.rssMb,
    growthFrom: first.jobs,
    samples,
    load,
  };
}

/**
 * Cold start of the `run` binary (and graphile-worker's CLI on PostgreSQL): wall time of
 * spawnSync, all commands interleaved. Returns one sample per command for this round.
 */
export function coldStartCases(backend, ctxs) {
  const RUN = join(ROOT_DIR, 'bin/run');
  const dir = mkdtempSync(join(tmpdir(), 'jobsmith-cold-'));
  // A config with one job, importing the built package by path (no install in a temp folder).
  writeFileSync(
    join(dir, 'jobsmith.config.mjs'),
    `import { defineConfig, defineJob } from ${JSON.stringify(join(ROOT_DIR, 'dist/src/index.js'))};\n` +
      `export default defineConfig({ jobs: [defineJob({ name: 'noop', handle() {} })] });\n`,
  );
  const js = ctxs.jobsmith;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: '1',
    LOG_FILE: join(dir, 'app.log'),
    ...(backend === 'pgsql'
      ? { DB_CONNECTION: 'pgsql', DATABASE_URL: js.url }
      : { DB_CONNECTION: 'sqlite', DB_DATABASE: js.file }),
  };
  const cases = [
    { id: 'node', label: '`node -e 0`', args: ['-e', '0'] },
    { id: 'jobsmith-help', label: '`run --help`', args: [RUN, '--help'] },
    {
      id: 'jobsmith-once',
      label: '`run queue:work --once` (empty queue)',
      args: [RUN, 'queue:work', '--once', '--config', join(dir, 'jobsmith.config.mjs')],
    },
  ];
  if (backend === 'pgsql' && ctxs.graphile) {
    mkdirSync(join(dir, 'tasks'));
    writeFileSync(join(dir, 'tasks/noop.js'), 'module.exports = async () => {};\n');
    cases.push({
      id: 'graphile-once',
      label: '`graphile-worker --once` (empty queue)',
      args: [
        join(BENCH_DIR, 'node_modules/graphile-worker/dist/cli.js'),
        '--connection',
        ctxs.graphile.url,
        '--once',
      ],
    });
  }
  const exec = (args) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
    return ms;
  };
  for (const c of cases) exec(c.args); // warm the disk cache
  return {
    cases,
    sample: (c) => ({ value: exec(c.args), load: loadavg()[0] }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
