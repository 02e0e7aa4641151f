/**
 * Harness for the reliability suites: a throw-away app (a jobsmith.config.ts in a temp dir)
 * whose jobs record what they do in a file, real `run queue:work` processes started with
 * spawnCli, and direct SQL access to the same SQLite file or PostgreSQL database. On `redis`
 * the jobs live in the shared test Redis under a key prefix of the app's own (the SQL storage,
 * for failed jobs and the `runs` table, is an SQLite file), and tests look at them through a
 * RedisQueue of their own: `jobRows()` and friends read either kind the same way.
 *
 * Every handler appends `${event} ${jobId} ${attempt} ${pid} ${epochMs}` to RUNS_FILE
 * (O_APPEND writes of one short line are atomic, so several processes can share it):
 * `start` when the handler begins, `done` when it reaches its end.
 */
import { writeFileSync, existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { RedisQueue } from '../../src/queue/redis/redis-queue.js';
import { runCliInHost } from '../helpers/cli-host.js';
import { REPO_ROOT, spawnCli, type CliProcess, type CliResult } from '../helpers/cli.js';
import { appEnv } from '../helpers/env.js';
import {
  copyMigratedSqlite,
  createMigratedTestDatabase,
  createTestDatabase,
  deleteRedisKeys,
  describePg,
  describeRedis,
  redisCommands,
  redisPrefix,
  redisUrl,
  tempDir,
  type TestDatabase,
} from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

export type BackendKind = 'sqlite' | 'pgsql' | 'redis';

export const BACKEND_LABEL: Record<BackendKind, string> = {
  sqlite: 'SQLite',
  pgsql: 'PostgreSQL',
  redis: 'Redis',
};

/** `describe` for one backend: PostgreSQL and Redis suites are skipped when unreachable. */
export function describeBackend(kind: BackendKind, name: string, fn: () => void): void {
  const title = `${name} (${BACKEND_LABEL[kind]})`;
  if (kind === 'pgsql') describePg(title, fn);
  else if (kind === 'redis') describeRedis(title, fn);
  else describe(title, fn);
}

/** A job not finished yet, as the tests see it on any backend. */
export interface JobSnapshot {
  id: string;
  attempts: number;
  /** Claimed and not released (SQL: reserved_at set; Redis: locked). */
  held: boolean;
  /** Held under a lease that has not run out. */
  live: boolean;
  /** May be claimed now. */
  ready: boolean;
  /** The claim's token (SQL column, Redis lock value); null when nobody holds the job. */
  token: string | null;
}

type Row = Record<string, unknown>;

/** Direct SQL on the app's storage, `?` placeholders on both dialects. */
export interface Backend {
  /** The SQL dialect (on `redis`, the SQL storage is SQLite). */
  kind: 'sqlite' | 'pgsql';
  /** Environment that points the CLI at this storage. */
  env: Record<string, string>;
  /** Epoch milliseconds from the database clock, as an SQL expression. */
  nowSql: string;
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /** First column of the first row as a number. */
  scalar(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

function sqliteBackend(file: string): Backend {
  let db: BetterSqlite3.Database | undefined;
  const open = () => {
    if (!db) {
      db = new BetterSqlite3(file);
      db.pragma('busy_timeout = 5000');
    }
    return db;
  };
  const query = async (sql: string, params: unknown[] = []) => {
    const stmt = open().prepare(sql);
    return stmt.reader ? (stmt.all(...params) as Row[]) : (stmt.run(...params), []);
  };
  return {
    kind: 'sqlite',
    env: { DB_CONNECTION: 'sqlite', DB_DATABASE: file },
    nowSql: `cast(unixepoch('subsec') * 1000 as integer)`,
    query,
    async scalar(sql, params) {
      const [row] = await query(sql, params);
      return Number(Object.values(row ?? {})[0]);
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}

function pgBackend(database: TestDatabase): Backend {
  const pool = new pg.Pool({
    connectionString: database.url,
    max: 2,
    connectionTimeoutMillis: 5000,
  });
  // A server restart kills idle clients; the pool drops them and the next query reconnects.
  pool.on('error', () => {});
  const query = async (sql: string, params: unknown[] = []) => {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    return (await pool.query(text, params)).rows as Row[];
  };
  return {
    kind: 'pgsql',
    env: { DB_CONNECTION: 'pgsql', DATABASE_URL: database.url },
    nowSql: `(extract(epoch from clock_timestamp()) * 1000)::bigint`,
    query,
    async scalar(sql, params) {
      const [row] = await query(sql, params);
      return Number(Object.values(row ?? {})[0]);
    },
    async close() {
      await pool.end().catch(() => {});
      await database.drop().catch(() => {});
    },
  };
}

/** One JSON line of `run queue:work --json`. */
export interface WorkerEvent {
  event: string;
  id?: string;
  name?: string;
  attempt?: number;
  reason?: string;
  error?: string;
  during?: string;
  exitCode?: number;
  [key: string]: unknown;
}

export interface WorkerProcess extends CliProcess {
  /** The JSON events printed so far (complete lines only). */
  events(): WorkerEvent[];
  /** Events of one kind, optionally for one job id. */
  eventsOf(event: string, id?: string): WorkerEvent[];
  /** Resolves once `count` events match (default 1); rejects on timeout or early exit. */
  waitForEvents(
    match: (e: WorkerEvent) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<WorkerEvent[]>;
}

function parseEvents(stdout: string): WorkerEvent[] {
  const events: WorkerEvent[] = [];
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as WorkerEvent);
    } catch {
      // Not one of ours; ignore.
    }
  }
  return events;
}

export interface RunRecord {
  /**
   * `aborted` is written by `stubborn` when its signal fires (it keeps going regardless);
   * `spin` by `spin` every 100th run, with the run count in place of the attempt.
   */
  event: 'start' | 'done' | 'aborted' | 'spin';
  id: string;
  attempt: number;
  pid: number;
  at: number;
}

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

export interface TestApp {
  dir: string;
  backend: Backend;
  /** True when the storage was copied from the run's migrated template. */
  premigrated: boolean;
  /** The environment every CLI of this app runs with. */
  env: Record<string, string | undefined>;
  writeConfig(options?: ConfigOptions): void;
  /** Runs a CLI command in the app's folder. */
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  /** Dispatches one job per payload in one transaction (stdin JSON lines); returns the ids. */
  dispatch(name: string, payloads: unknown[]): Promise<string[]>;
  /** Starts `run queue:work --json` with `args`. Killed by cleanup(). */
  worker(args: string[], opts?: { timeoutMs?: number }): WorkerProcess;
  /** The records the handlers wrote so far. */
  runs(): RunRecord[];
  /** Jobs not finished (waiting, delayed or held), in the queue backend. */
  jobCount(): Promise<number>;
  failedJobs(): Promise<Row[]>;
  /** Jobs whose lease is still live: reserved and not yet expired. */
  liveReserved(): Promise<number>;
  /** Every job not finished, in dispatch order. */
  jobRows(): Promise<JobSnapshot[]>;
  /** Stores a job as a foreign producer (or an old deploy) might: any name, any payload text. */
  insertRaw(name: string, payload: string): Promise<string>;
  /**
   * Kills every worker still running, closes connections, drops the database, removes the
   * dir. Safe to call twice.
   */
  cleanup(): Promise<void>;
}

export interface AppOptions {
  /** On `redis`: the server to use instead of the shared test Redis (a restart test's own). */
  redisUrl?: string;
  /** On `pgsql`: the server to make the database on instead of the shared one (a cluster of the test's own). */
  pgAdminUrl?: string;
}

export async function createApp(kind: BackendKind, options: AppOptions = {}): Promise<TestApp> {
  const tmp = tempDir(`jobsmith-rel-${kind}-`);
  const dir = realpathSync(tmp.path);
  let backend: Backend;
  let premigrated: boolean;
  try {
    // Storage starts migrated, from the run's template, unless the test brings its own
    // PostgreSQL cluster (the template lives on the shared server); migrate() does the rest.
    premigrated = options.pgAdminUrl === undefined;
    if (kind === 'pgsql') {
      backend = pgBackend(
        await (premigrated ? createMigratedTestDatabase() : createTestDatabase(options.pgAdminUrl)),
      );
    } else {
      copyMigratedSqlite(path.join(dir, 'database.sqlite'));
      backend = sqliteBackend(path.join(dir, 'database.sqlite'));
    }
  } catch (error) {
    tmp.cleanup();
    throw error;
  }
  const queues =
    kind === 'redis' ? redisQueues(options.redisUrl ?? redisUrl()) : sqlQueues(backend);
  const runsFile = path.join(dir, 'runs.log');
  const env = appEnv({
    ...backend.env,
    ...queues.env,
    LOG_FILE: path.join(dir, 'app.log'),
    LOG_LEVEL: 'warn',
    RUNS_FILE: runsFile,
    RELIABILITY_REPO_PACKAGE: path.join(REPO_ROOT, 'package.json'),
  });
  const workers: WorkerProcess[] = [];
  let cleaned = false;

  const app: TestApp = {
    dir,
    backend,
    env,
    premigrated,
    writeConfig(options) {
      writeFileSync(path.join(dir, 'jobsmith.config.ts'), configSource(options));
    },
    run(args, opts = {}) {
      // In a long-lived CLI host (test/helpers/cli-host.ts); workers are spawned below.
      return runCliInHost(args, {
        cwd: dir,
        env,
        input: opts.input,
        timeoutMs: opts.timeoutMs ?? 30_000,
      });
    },
    async dispatch(name, payloads) {
      const input = payloads.map((p) => JSON.stringify(p)).join('\n') + '\n';
      const result = await app.run(['queue:dispatch', name, '--json'], {
        input,
        timeoutMs: 60_000,
      });
      if (result.code !== 0) {
        throw new Error(`queue:dispatch ${name} exited ${result.code}: ${result.stderr}`);
      }
      return (JSON.parse(result.stdout) as Array<{ id: string }>).map((r) => r.id);
    },
    worker(args, opts = {}) {
      const proc = spawnCli(['queue:work', '--json', ...args], {
        cwd: dir,
        env,
        timeoutMs: opts.timeoutMs ?? 60_000,
      });
      const worker: WorkerProcess = Object.assign(proc, {
        events: () => parseEvents(proc.stdout),
        eventsOf: (event: string, id?: string) =>
          parseEvents(proc.stdout).filter(
            (e) => e.event === event && (id === undefined || e.id === id),
          ),
        async waitForEvents(match: (e: WorkerEvent) => boolean, count = 1, timeoutMs = 10_000) {
          let exited = false;
          void proc.exited.then(() => {
            exited = true;
          });
          const found = await waitFor<WorkerEvent[] | 'exited' | false>(
            () => {
              const matching = parseEvents(proc.stdout).filter(match);
              if (matching.length >= count) return matching;
              return exited ? 'exited' : false;
            },
            {
              timeoutMs,
              intervalMs: 25,
              message: `waiting for ${count} event(s) from worker pid ${proc.child.pid}`,
            },
          ).catch((error: Error) => {
            throw new Error(`${error.message}\nOutput so far:\n${proc.output.slice(-3000)}`);
          });
          if (found === 'exited') {
            throw new Error(
              `worker pid ${proc.child.pid} exited (code ${proc.child.exitCode}, signal ` +
                `${proc.child.signalCode}) before ${count} matching event(s). Output:\n` +
                proc.output.slice(-3000),
            );
          }
          return found as WorkerEvent[];
        },
      });
      workers.push(worker);
      return worker;
    },
    runs() {
      if (!existsSync(runsFile)) return [];
      return readFileSync(runsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [event, id, attempt, pid, at] = line.split(' ');
          return {
            event: event as RunRecord['event'],
            id: id!,
            attempt: Number(attempt),
            pid: Number(pid),
            at: Number(at),
          };
        });
    },
    jobCount: async () => (await queues.jobRows()).length,
    failedJobs: () => backend.query('select * from failed_jobs order by id'),
    liveReserved: async () => (await queues.jobRows()).filter((j) => j.live).length,
    jobRows: () => queues.jobRows(),
    insertRaw: (name, payload) => queues.insertRaw(name, payload),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await Promise.all(
        workers.map((w) =>
          w.child.exitCode === null && w.child.signalCode === null
            ? w.stop('SIGKILL', 1_000)
            : w.exited,
        ),
      );
      await queues.close();
      await backend.close();
      tmp.cleanup();
    },
  };
  app.writeConfig();
  return app;
}

/** Where the app's jobs are, as the tests look at them. */
interface QueueInspector {
  env: Record<string, string>;
  jobRows(): Promise<JobSnapshot[]>;
  insertRaw(name: string, payload: string): Promise<string>;
  close(): Promise<void>;
}

/** The database connection: the `jobs` table, read with SQL. */
function sqlQueues(backend: Backend): QueueInspector {
  return {
    env: {},
    async jobRows() {
      const rows = await backend.query(
        `select id, attempts, reserved_at, token, available_at > ${backend.nowSql} as future from jobs order by id`,
      );
      return rows.map((r) => ({
        id: String(r.id),
        attempts: Number(r.attempts),
        held: r.reserved_at != null,
        live: r.reserved_at != null && Boolean(r.future),
        ready: !r.future,
        token: (r.token as string | null) ?? null,
      }));
    },
    async insertRaw(name, payload) {
      const [row] = await backend.query(
        'insert into jobs (queue, name, payload, priority, attempts, max_tries, available_at, created_at) ' +
          "values ('default', ?, ?, 0, 0, 3, 0, 0) returning id",
        [name, payload],
      );
      return String(row!.id);
    },
    async close() {},
  };
}

/**
 * The redis connection: the shared test Redis under a prefix of this app's own, read through
 * a RedisQueue (sizes, listings) and the lock keys (tokens). The prefix is deleted at cleanup.
 */
function redisQueues(url: string): QueueInspector {
  const prefix = redisPrefix('jobsmith-rel').replace(/:$/, '');
  let opened: Promise<RedisQueue> | undefined;
  const driver = () =>
    (opened ??= (async () => {
      const knex = async () => {
        throw new Error('the test inspector never fails jobs');
      };
      const queue = new RedisQueue({ url, prefix, knex });
      await queue.connect();
      return queue;
    })());
  return {
    env: { QUEUE_CONNECTION: 'redis', REDIS_URL: url, REDIS_PREFIX: prefix },
    async jobRows() {
      const queue = await driver();
      const rows = [];
      for (const name of await queue.queues()) {
        for (let offset = 0; ; offset += 1000) {
          const page = await queue.list(name, undefined, offset, 1000);
          rows.push(...page);
          if (page.length < 1000) break;
        }
      }
      const locks = rows.length
        ? await redisCommands(url, [
            ['MGET', ...rows.map((r) => `${prefix}:${r.queue}:${r.id.split(':')[1]}:lock`)],
          ])
        : [[]];
      const tokens = locks[0] as Array<string | null>;
      return rows
        .map((r, i) => ({
          id: r.id,
          attempts: r.attempts,
          held: r.state === 'reserved',
          live: r.state === 'reserved',
          ready: r.state === 'pending',
          token: tokens[i] ?? null,
        }))
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    },
    async insertRaw(name, payload) {
      const queue = await driver();
      const [result] = await queue.push([
        { name, queue: 'default', payload, priority: 0, maxTries: 3, delayMs: 0 },
      ]);
      return result!.id;
    },
    async close() {
      await (await opened?.catch(() => undefined))?.close();
      await deleteRedisKeys(url, `${prefix}:`);
    },
  };
}

/** Applies the schema (and the test's `runs` table) before any worker starts. */
export async function migrate(app: TestApp): Promise<void> {
  if (!app.premigrated) {
    const result = await app.run(['migrate']);
    expect(result.code, result.stderr).toBe(0);
  }
  await app.backend.query(
    'create table runs (job_id text not null, attempt integer not null, pid integer not null, ' +
      'unique (job_id, attempt))',
  );
}

/** Groups `done` records by job id. */
export function completionsById(runs: RunRecord[]): Map<string, RunRecord[]> {
  const byId = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (r.event !== 'done') continue;
    byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  }
  return byId;
}

/** Waits until the jobs table is empty. */
export function waitForEmptyQueue(app: TestApp, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => (await app.jobCount()) === 0, {
    timeoutMs,
    intervalMs: 100,
    message: 'waiting for the jobs table to empty',
  });
}
