/**
 * A scratch app for the scheduler tests: a temp dir with a jobsmith.config.ts whose schedule is
 * chosen per run with ENTRIES=a,b (names from the list below), its own storage (an SQLite file
 * or a fresh PostgreSQL database), and helpers that run `bin/run` the way cron or supervisor
 * does. JOBSMITH_NOW puts the scheduler in any minute, so no test waits for the clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { runCliInHost } from './helpers/cli-host.js';
import { CLI_PATH, cliEnv, type CliResult } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { createTestDatabase, describePg, tempDir, type TestDatabase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

export type Backend = 'sqlite' | 'pgsql';

export function describeBackend(backend: Backend, name: string, fn: () => void): void {
  const title = `${name} (${backend === 'pgsql' ? 'PostgreSQL' : 'SQLite'})`;
  if (backend === 'pgsql') describePg(title, fn);
  else describe(title, fn);
}

/**
 * tick.job appends `tick:n` to runs.log. `hold` runs a worker on an empty queue, which runs
 * until it is signalled: an entry that is "still running" for as long as a test wants.
 */
const CONFIG = `
import { appendFileSync } from 'node:fs';
import { dailyAt, defineConfig, defineJob, everyMinute } from 'jobsmith';
import { z } from 'zod';

export const tick = defineJob({
  name: 'tick.job',
  schema: z.object({ n: z.number() }),
  timeout: 20,
  async handle(p: { n: number }) { appendFileSync('runs.log', 'tick:' + p.n + '\\n'); },
});

const ALL = {
  tick: { name: 'tick', cron: everyMinute(), job: tick, payload: { n: 1 } },
  'per-host': { name: 'per-host', cron: everyMinute(), job: 'tick.job', payload: { n: 2 }, onOneServer: false },
  hourly: { name: 'hourly', cron: '0 * * * *', job: tick, payload: { n: 3 } },
  nightly: {
    name: 'nightly',
    cron: dailyAt('03:00'),
    timezone: 'Europe/Paris',
    command: 'queue:prune-failed --hours 168',
    withoutOverlapping: true,
    description: 'forget old failures',
  },
  seconds: { name: 'seconds', cron: '*/20 * * * * *', job: tick, payload: { n: 4 }, queue: 'fast' },
  hold: {
    name: 'hold',
    cron: everyMinute(),
    command: 'queue:work --queue sched-hold --sleep 200ms',
    withoutOverlapping: { lease: '2s' },
  },
  broken: { name: 'broken', cron: everyMinute(), command: ['queue:failed', '--limit', '0'] },
  sizes: { name: 'sizes', cron: everyMinute(), command: 'queue:size default --json' },
  // No zone: read in scheduleTimezone, else UTC (ZONELESS=1 leaves scheduleTimezone out).
  nine: { name: 'nine', cron: '0 9 * * *', job: tick, payload: { n: 9 } },
};

const names = (process.env.ENTRIES ?? 'tick').split(',').filter(Boolean);
export default defineConfig({
  jobs: [tick],
  ...(process.env.ZONELESS ? {} : { scheduleTimezone: 'UTC' }),
  schedule: names.map((n) => ALL[n as keyof typeof ALL]),
});
`;

type Env = Record<string, string | undefined>;

/** One JSON line of schedule:run / schedule:work / schedule:test --json. */
export interface SchedulerEvent {
  event: string;
  entry?: string;
  slot?: string;
  ok?: boolean;
  reason?: string;
  detail?: string;
  [key: string]: unknown;
}

export function events(stdout: string): SchedulerEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SchedulerEvent);
}

/**
 * `bin/run` in its own process group, as cron starts it. killGroup() kills it the way a crash
 * would: no signal handler runs, nothing is released.
 */
export interface GroupProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number | null>;
  killGroup(signal?: NodeJS.Signals): void;
}

export interface ScheduleApp {
  backend: Backend;
  cwd: string;
  env: Env;
  run(args: string[], env?: Env): Promise<CliResult>;
  spawnGroup(args: string[], env?: Env): GroupProcess;
  /**
   * The pid of the worker a `hold` run started (it prints `Worker host:PID processing`). The
   * scheduler starts commands in their own process group, so killGroup() leaves it running, as
   * a crash of the scheduler alone would; cleanup() kills it.
   */
  commandPid(group: GroupProcess): Promise<number>;
  /** Rows of a table, through the same storage code the CLI uses. */
  rows(table: string, where?: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
  /** Lines of runs.log. */
  runs(): string[];
  cleanup(): Promise<void>;
}

export async function createScheduleApp(backend: Backend): Promise<ScheduleApp> {
  const dir = tempDir(`jobsmith-schedule-${backend}-`);
  const cwd = realpathSync(dir.path);
  writeFileSync(path.join(cwd, 'jobsmith.config.ts'), CONFIG);
  let pg: TestDatabase | undefined;
  let env: Env;
  if (backend === 'pgsql') {
    pg = await createTestDatabase();
    env = appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url, JOBSMITH_NOW: undefined });
  } else {
    env = appEnv({ DB_CONNECTION: 'sqlite', JOBSMITH_NOW: undefined });
  }
  const groups = new Set<GroupProcess>();
  const commands = new Set<number>();
  let database: Promise<Database> | undefined;

  return {
    backend,
    cwd,
    env,
    run: (args, extra) => runCliInHost(args, { cwd, env: { ...env, ...extra }, timeoutMs: 60_000 }),
    spawnGroup(args, extra) {
      const child = spawn(process.execPath, [CLI_PATH, ...args], {
        cwd,
        env: cliEnv({ ...env, ...extra }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // 'close': the output is complete (the command it started shares the pipes).
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      const group: GroupProcess = {
        child,
        get stdout() {
          return stdout;
        },
        get stderr() {
          return stderr;
        },
        exited,
        killGroup(signal = 'SIGKILL') {
          try {
            process.kill(-child.pid!, signal);
          } catch {
            // Already gone.
          }
        },
      };
      groups.add(group);
      return group;
    },
    async commandPid(group) {
      const pattern = /Worker \S+:(\d+) processing/;
      const pid = await waitFor(() => Number(pattern.exec(group.stdout + group.stderr)?.[1] ?? 0), {
        timeoutMs: 20_000,
        message: 'the command did not start its worker',
      });
      commands.add(pid);
      return pid;
    },
    async rows(table, where = {}) {
      database ??= openDatabase(parseEnv(env), cwd);
      return (await database).knex(table).where(where).select('*');
    },
    runs() {
      const file = path.join(cwd, 'runs.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    async cleanup() {
      for (const g of groups) g.killGroup('SIGKILL');
      for (const pid of commands) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await Promise.all([...groups].map((g) => g.exited));
      if (database) await (await database).knex.destroy();
      await pg?.drop();
      dir.cleanup();
    },
  };
}
