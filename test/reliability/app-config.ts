/**
 * The reliability suites' app config (test/reliability/harness.ts writes it into each app's
 * folder): the source text of a jobsmith.config.ts whose jobs record what they do in RUNS_FILE.
 */
export interface ConfigOptions {
  /** Register a job named `nope` (a "deploy" that makes an unknown job known). */
  withNope?: boolean;
}

/**
 * The test app's config. Jobs:
 * - `sleep` {ms}: sleeps (honouring nothing), records start and done.
 * - `stubborn` {ms, laterMs?}: like sleep (laterMs from attempt 2 on), ignoring ctx.signal;
 *   records `aborted` when the signal fires.
 * - `fence` {blockMs, ms, settle}: in the first process to run a fence job (it writes its pid to
 *   a file), blocks the event loop for blockMs (no heartbeat can run; shared by the fence jobs
 *   of that process), then completes, throws (retry) or throws Permanent (fail); in any other
 *   process sleeps ms and completes. (By process, not attempt: a job back from a lost lease
 *   runs again with the same attempt.)
 * - `crash` {}: records start, then process.exit(1); tries 3.
 * - `strict` {n:number}: a schema to violate.
 * - `count` {}: records, then inserts (job_id, attempt, pid) into the `runs` table, which has
 *   a unique (job_id, attempt) key.
 * - `gate` {file, fail?}: records start, waits (polling) until `file` exists, then records done
 *   (or, with `fail`, throws Permanent): a barrier the test lifts, so that jobs finish at a
 *   moment of its choosing.
 * - `spin` {}: throws RetryAfter(0) every time (runs again at once, no attempt spent); records
 *   `spin <id> <runs so far>` every 100th run in this process.
 * - `stray` {fault, ms}: starts code that fails outside the handler's promise, a rejection left
 *   unhandled (`rejection`) or an exception thrown from a timer (`exception`), then sleeps ms
 *   and records done.
 * - `nope` {} (only with withNope).
 */
export function configSource(options: ConfigOptions = {}): string {
  return `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig, defineJob, Permanent, RetryAfter } from 'jobsmith';
import { z } from 'zod';

const runsFile = process.env.RUNS_FILE!;
const record = (event: string, id: string, attempt: number) =>
  appendFileSync(runsFile, \`\${event} \${id} \${attempt} \${process.pid} \${Date.now()}\\n\`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const sleepJob = defineJob({
  name: 'sleep',
  schema: z.object({ ms: z.number() }),
  tries: 3,
  backoff: 0,
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    await sleep(p.ms);
    record('done', ctx.jobId, ctx.attempt);
  },
});

const stubborn = defineJob({
  name: 'stubborn',
  schema: z.object({ ms: z.number(), laterMs: z.number().optional() }),
  tries: 3,
  backoff: 0,
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    ctx.signal.addEventListener('abort', () => record('aborted', ctx.jobId, ctx.attempt));
    // Ignores ctx.signal on purpose.
    await sleep(ctx.attempt > 1 && p.laterMs !== undefined ? p.laterMs : p.ms);
    record('done', ctx.jobId, ctx.attempt);
  },
});

// In the first process to run one, blocks the event loop (no heartbeat can run) until blockMs
// after the first fence job of this process started, then settles as asked: complete, retry
// (throws) or fail (throws Permanent). Other processes sleep ms and complete.
let fenceEnd: number | undefined;
const fenceOwner = () => {
  const file = runsFile + '.fence-owner';
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch {
    // Another process (or this one) owns it already.
  }
  return Number(readFileSync(file, 'utf8')) === process.pid;
};
const fence = defineJob({
  name: 'fence',
  schema: z.object({
    blockMs: z.number(),
    ms: z.number(),
    settle: z.enum(['complete', 'retry', 'fail']),
  }),
  tries: 5,
  backoff: 0,
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    if (fenceOwner()) {
      fenceEnd ??= Date.now() + p.blockMs;
      while (Date.now() < fenceEnd) {
        // Busy: timers (the heartbeat) cannot run.
      }
      if (p.settle === 'retry') throw new Error('stale attempt failed');
      if (p.settle === 'fail') throw new Permanent('stale attempt failed for good');
    } else {
      await sleep(p.ms);
    }
    record('done', ctx.jobId, ctx.attempt);
  },
});

const crash = defineJob({
  name: 'crash',
  tries: 3,
  backoff: 0,
  async handle(_p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    process.exit(1);
  },
});

const strict = defineJob({
  name: 'strict',
  schema: z.object({ n: z.number() }),
  tries: 3,
  async handle(_p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    record('done', ctx.jobId, ctx.attempt);
  },
});

// The runs table lives in the app's own database; drivers come from the jobsmith checkout.
const requireFromRepo = createRequire(process.env.RELIABILITY_REPO_PACKAGE!);
let insertRun: ((id: string, attempt: number) => Promise<void>) | undefined;
function runsTable() {
  if (insertRun) return insertRun;
  if (process.env.DB_CONNECTION === 'pgsql') {
    const pg = requireFromRepo('pg');
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, allowExitOnIdle: true });
    pool.on('error', () => {});
    insertRun = async (id, attempt) => {
      await pool.query('insert into runs (job_id, attempt, pid) values ($1, $2, $3)', [id, attempt, process.pid]);
    };
  } else {
    const Database = requireFromRepo('better-sqlite3');
    const db = new Database(process.env.DB_DATABASE);
    db.pragma('busy_timeout = 10000');
    const stmt = db.prepare('insert into runs (job_id, attempt, pid) values (?, ?, ?)');
    insertRun = async (id, attempt) => {
      stmt.run(id, attempt, process.pid);
    };
  }
  return insertRun;
}

const count = defineJob({
  name: 'count',
  tries: 3,
  backoff: 0,
  async handle(_p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    await runsTable()(ctx.jobId, ctx.attempt);
    record('done', ctx.jobId, ctx.attempt);
  },
});

const gate = defineJob({
  name: 'gate',
  schema: z.object({ file: z.string(), fail: z.boolean().optional() }),
  tries: 3,
  backoff: 0,
  timeout: 300,
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    while (!existsSync(p.file)) await sleep(20);
    if (p.fail) throw new Permanent('the gate failed on purpose');
    record('done', ctx.jobId, ctx.attempt);
  },
});

let spins = 0;
const spin = defineJob({
  name: 'spin',
  tries: 3,
  async handle(_p, ctx) {
    if (++spins % 100 === 0) record('spin', ctx.jobId, spins);
    throw new RetryAfter(0);
  },
});

const stray = defineJob({
  name: 'stray',
  schema: z.object({ fault: z.enum(['rejection', 'exception']), ms: z.number() }),
  tries: 2,
  backoff: 0,
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    if (p.fault === 'rejection') void Promise.reject(new Error('a rejection nobody handles'));
    else setTimeout(() => { throw new Error('thrown from a timer'); }, 10);
    await sleep(p.ms);
    record('done', ctx.jobId, ctx.attempt);
  },
});

${
  options.withNope
    ? `const nope = defineJob({
  name: 'nope',
  async handle(_p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    record('done', ctx.jobId, ctx.attempt);
  },
});`
    : ''
}

export default defineConfig({
  jobs: [sleepJob, stubborn, fence, crash, strict, count, gate, spin, stray${options.withNope ? ', nope' : ''}],
});
`;
}
