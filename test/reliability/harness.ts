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
import { runCliInHost } from '../helpers/cli-host.js';
import { REPO_ROOT, spawnCli, type CliProcess, type CliResult } from '../helpers/cli.js';
import { appEnv } from '../helpers/env.js';
import {
  copyMigratedSqlite,
  createMigratedTestDatabase,
  createTestDatabase,
  describePg,
  describeRedis,
  redisUrl,
  tempDir,
  type TestDatabase,
} from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { configSource, type ConfigOptions } from './app-config.js';
import { redisQueues, sqlQueues } from './queues.js';

export { configSource, type ConfigOptions };

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
