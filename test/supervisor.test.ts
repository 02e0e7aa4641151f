import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT, cliEnv, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { describeWithTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

/**
 * A real supervisord (Debian's `supervisor` package) on examples/supervisor/jobsmith.conf,
 * templated into a temp folder: its own socket, pidfile and logs, /srv/app replaced by a temp
 * app on SQLite, the run path by this checkout's bin/run, no `user=` (tests run as whoever they
 * run as) and one process per program to spare the CPU.
 */

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'supervisor', 'jobsmith.conf');
const QUEUE_MANAGER = path.join(REPO_ROOT, 'queue_manager.sh');

const CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';
const record = (line: string) => appendFileSync('runs.log', line + '\\n');
export default defineConfig({
  jobs: [
    defineJob({ name: 'mark.job', timeout: 10, async handle(p: { n: number }) { record('mark:' + p.n); } }),
    defineJob({
      name: 'slow.job',
      timeout: 20,
      async handle() {
        record('slow:start');
        await new Promise((resolve) => setTimeout(resolve, 2000));
        record('slow:done');
      },
    }),
  ],
});
`;

// .ci/run installs supervisor; see test/helpers/tools.ts for what happens without it.
describeWithTools(
  ['supervisord', 'supervisorctl'],
  'the example supervisor configuration under a real supervisord',
  () => {
    let dir: TempDir;
    let root: string;
    let app: string;
    let conf: string;
    let supervisord: ChildProcess | undefined;
    let supervisordExit: Promise<unknown> = Promise.resolve();
    const env = appEnv();

    const ctl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile('supervisorctl', ['-c', conf, ...args], { timeout: 60_000 }, (error, stdout) =>
          resolve({ code: error ? Number(error.code ?? -1) : 0, stdout }),
        );
      });
    const runs = () => {
      const file = path.join(app, 'runs.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    };
    const run = (args: string[]) => runCli(args, { cwd: app, env });

    beforeAll(async () => {
      dir = tempDir('jobsmith-supervisor-');
      root = realpathSync(dir.path);
      app = path.join(root, 'app');
      execFileSync('mkdir', ['-p', path.join(app, 'storage', 'logs')]);
      writeFileSync(path.join(app, 'jobsmith.config.ts'), CONFIG);
      // Migrate once, so the three programs do not all start on a fresh file.
      expect((await run(['migrate'])).code).toBe(0);

      const programs = readFileSync(EXAMPLE, 'utf8')
        .replaceAll('/srv/app/node_modules/.bin/run', CLI_PATH)
        .replaceAll('/srv/app', app)
        .replace(/^user=.*\n/gm, '')
        .replace(/^numprocs=\d+$/gm, 'numprocs=1');
      writeFileSync(path.join(root, 'jobsmith.conf'), programs);
      conf = path.join(root, 'supervisord.conf');
      writeFileSync(
        conf,
        [
          '[unix_http_server]',
          `file=${root}/supervisor.sock`,
          '[supervisord]',
          `pidfile=${root}/supervisord.pid`,
          `logfile=${root}/supervisord.log`,
          `childlogdir=${root}`,
          'nodaemon=true',
          '[rpcinterface:supervisor]',
          'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
          '[supervisorctl]',
          `serverurl=unix://${root}/supervisor.sock`,
          '[include]',
          `files = ${root}/jobsmith.conf`,
          '',
        ].join('\n'),
      );
      supervisord = spawn('supervisord', ['-c', conf], {
        cwd: root,
        env: cliEnv(env),
        stdio: 'ignore',
      });
      supervisordExit = new Promise((resolve) => supervisord!.once('exit', resolve));
      await waitFor(
        async () => {
          const { stdout } = await ctl('status');
          return (stdout.match(/ RUNNING /g) ?? []).length === 3;
        },
        { timeoutMs: 30_000, intervalMs: 250, message: 'the programs did not reach RUNNING' },
      );
    });

    afterAll(async () => {
      if (supervisord && supervisord.exitCode === null) {
        await ctl('shutdown');
        const timer = setTimeout(() => supervisord?.kill('SIGKILL'), 30_000);
        await supervisordExit;
        clearTimeout(timer);
      }
      dir?.cleanup();
    });

    it('runs the worker, the high-priority worker and the scheduler', async () => {
      const { stdout } = await ctl('status');
      expect(stdout).toMatch(/^jobsmith:jobsmith-high_00 +RUNNING /m);
      expect(stdout).toMatch(/^jobsmith:jobsmith-scheduler +RUNNING /m);
      expect(stdout).toMatch(/^jobsmith:jobsmith-worker_00 +RUNNING /m);
      await run(['queue:dispatch', 'mark.job', '--payload', '{"n":1}']);
      await waitFor(() => runs().includes('mark:1'), { timeoutMs: 20_000 });
    });

    it('lets queue_manager.sh drive supervisorctl (status, test)', async () => {
      const qm = (action: string) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(
            'bash',
            [QUEUE_MANAGER, action],
            {
              cwd: app,
              env: cliEnv({ ...env, APP_DIR: app, SUPERVISOR_CONF: conf, TEST_TIMEOUT: '20' }),
              timeout: 60_000,
            },
            (error, stdout, stderr) =>
              resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
          );
        });
      const status = await qm('status');
      expect(status.code, `${status.stdout}${status.stderr}`).toBe(0);
      expect(status.stdout).toMatch(/^jobsmith:jobsmith-worker_00 +RUNNING /m);
      const ping = await qm('test');
      expect(ping.code, `${ping.stdout}${ping.stderr}`).toBe(0);
      expect(ping.stdout).toMatch(/OK: a worker ran jobsmith\.ping #\d+\.\n$/);
    });

    it('supervisorctl stop drains: a running job finishes and the workers exit 0', async () => {
      await run(['queue:dispatch', 'slow.job', '--payload', '{}']);
      await waitFor(() => runs().includes('slow:start'), { timeoutMs: 20_000 });
      const stop = await ctl('stop', 'jobsmith:*');
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain('jobsmith:jobsmith-worker_00: stopped');
      expect(runs()).toContain('slow:done');
      const size = await run(['queue:size', '--json']);
      expect(JSON.parse(size.stdout)).toEqual([]);
      // Exit 0 after the drain, not a SIGKILL at stopwaitsecs.
      const log = readFileSync(path.join(root, 'supervisord.log'), 'utf8');
      for (const program of ['jobsmith-worker_00', 'jobsmith-high_00', 'jobsmith-scheduler']) {
        expect(log).toContain(`stopped: ${program} (exit status 0)`);
      }
      const workerLog = readFileSync(path.join(app, 'storage', 'logs', 'worker.log'), 'utf8');
      expect(workerLog).toMatch(/Worker stopped \(signal\) after \d+ job\(s\)\./);
      const { stdout } = await ctl('status');
      expect((stdout.match(/ STOPPED /g) ?? []).length).toBe(3);
    });
  },
);
