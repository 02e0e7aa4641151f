import { execFile } from 'node:child_process';
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT, cliEnv, spawnCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

/*
 * Files jobsmith creates hold payloads, errors and logs: owner-only (0600 files, 0700 folders)
 * even under the usual umask 022, which makes everything else world-readable (issue 11, item 7).
 * Each command runs in a real child process whose umask is 022.
 */

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export default defineConfig({
  jobs: [defineJob({ name: 'mark.job', async handle() {} })],
});
`;

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 120_000;

const modeOf = (file: string) => statSync(file).mode & 0o777;

/** `sh -c 'umask 022; exec "$@"'`: the command as a shell with the usual umask starts it. */
function withUmask022(command: string[]): string[] {
  return ['-c', 'umask 022; exec "$@"', 'sh', ...command];
}

describe('files jobsmith creates under umask 022', () => {
  let dir: TempDir;
  let cwd: string;
  beforeEach(() => {
    dir = tempDir('jobsmith-files-');
    cwd = realpathSync(dir.path);
    writeFileSync(path.join(cwd, 'jobsmith.config.ts'), CONFIG);
  });
  afterEach(() => dir.cleanup());

  it(
    'are owner-only: the SQLite file, its -wal and -shm, the migrate lock, the log and their folders',
    async () => {
      // The shell itself would create files 0644 here (the control that the umask is 022).
      const { spawn } = await import('node:child_process');
      const worker = spawn('sh', withUmask022([process.execPath, CLI_PATH, 'queue:work']), {
        cwd,
        env: cliEnv(appEnv({ DB_CONNECTION: 'sqlite' })),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      worker.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      worker.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      try {
        const storage = path.join(cwd, 'storage');
        const db = path.join(storage, 'database.sqlite');
        // While the worker runs, SQLite keeps its -wal and -shm files beside the database.
        await waitFor(() => output.includes('processing') && existsSync(`${db}-wal`), {
          timeoutMs: 20_000,
          message: 'the worker did not start, or SQLite made no -wal file',
        });
        expect({
          storage: modeOf(storage),
          logs: modeOf(path.join(storage, 'logs')),
          database: modeOf(db),
          wal: modeOf(`${db}-wal`),
          shm: modeOf(`${db}-shm`),
          lock: modeOf(`${db}.migrate-lock`),
          log: modeOf(path.join(storage, 'logs', 'app.log')),
        }).toEqual({
          storage: 0o700,
          logs: 0o700,
          database: 0o600,
          wal: 0o600,
          shm: 0o600,
          lock: 0o600,
          log: 0o600,
        });
        await new Promise<void>((resolve, reject) =>
          execFile('sh', withUmask022(['touch', path.join(cwd, 'control')]), (e) =>
            e ? reject(e) : resolve(),
          ),
        );
        expect(modeOf(path.join(cwd, 'control'))).toBe(0o644);
      } finally {
        worker.kill('SIGTERM');
        await exited;
      }
    },
    SLOW,
  );

  it(
    'leave a database file that already exists as it is',
    async () => {
      const db = path.join(cwd, 'shared.sqlite');
      writeFileSync(db, '', { mode: 0o640 });
      const result = await new Promise<number | null>((resolve) => {
        const child = spawnCli(['migrate'], { cwd, env: appEnv({ DB_DATABASE: 'shared.sqlite' }) });
        void child.exited.then((r) => resolve(r.code));
      });
      expect(result).toBe(0);
      expect(modeOf(db)).toBe(0o640);
    },
    SLOW,
  );

  it(
    'are owner-only when queue_manager.sh starts workers: PID files, the worker log, their folders',
    async () => {
      const script = path.join(REPO_ROOT, 'queue_manager.sh');
      const env = cliEnv(appEnv({ SUPERVISOR: 'no', WORKERS: '1', START_WAIT: '20' }));
      const run = (action: string) =>
        new Promise<{ code: number; out: string }>((resolve) =>
          execFile(
            'sh',
            withUmask022(['bash', script, action]),
            { cwd, env, timeout: 60_000 },
            (e, o, s) => resolve({ code: e ? Number(e.code ?? -1) : 0, out: o + s }),
          ),
        );
      const started = await run('start');
      try {
        expect(started.code, started.out).toBe(0);
        const storage = path.join(cwd, 'storage');
        expect({
          pids: modeOf(path.join(storage, 'pids')),
          pid: modeOf(path.join(storage, 'pids', 'worker-1.pid')),
          logs: modeOf(path.join(storage, 'logs')),
          log: modeOf(path.join(storage, 'logs', 'worker.log')),
          database: modeOf(path.join(storage, 'database.sqlite')),
        }).toEqual({ pids: 0o700, pid: 0o600, logs: 0o700, log: 0o600, database: 0o600 });
      } finally {
        const stopped = await run('stop');
        expect(stopped.code, stopped.out).toBe(0);
      }
    },
    SLOW,
  );
});
