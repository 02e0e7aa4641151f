/**
 * examples/supervisor/workers.conf under a real supervisord (Debian's `supervisor` package): the
 * group `workers` runs a bot's processes (longpolling, updates, telegram, scheduled) and the
 * app's queue worker and scheduler, against the fake Bot API. Templated as in
 * supervisor.test.ts: a temp app on SQLite, this checkout's bin/run, no `user=`, one process per
 * program.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { CLI_PATH, REPO_ROOT, cliEnv, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { describeWithTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'supervisor', 'workers.conf');
const QUEUE_MANAGER = path.join(REPO_ROOT, 'queue_manager.sh');
const PROGRAMS = ['longpolling', 'updates_00', 'telegram_00', 'scheduled', 'queue_00', 'schedule'];
const CHAT = 4242;

const CONFIG = `
import { Composer } from 'grammy';
import { defineConfig } from 'jobsmith';
const bot = new Composer();
bot.on('message:text', (ctx) => ctx.reply('pong: ' + ctx.message.text));
export default defineConfig({ telegram: { handler: bot } });
`;

describeWithTools(
  ['supervisord', 'supervisorctl'],
  'examples/supervisor/workers.conf under a real supervisord',
  () => {
    let dir: TempDir;
    let root: string;
    let app: string;
    let conf: string;
    let api: FakeBotApi;
    let env: Record<string, string | undefined>;
    let supervisord: ChildProcess | undefined;
    let supervisordExit: Promise<unknown> = Promise.resolve();

    const ctl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile('supervisorctl', ['-c', conf, ...args], { timeout: 60_000 }, (error, stdout) =>
          resolve({ code: error ? Number(error.code ?? -1) : 0, stdout }),
        );
      });
    const pids = async () => {
      const { stdout } = await ctl('status');
      return new Map(
        [...stdout.matchAll(/^workers:(\S+) +RUNNING +pid (\d+)/gm)].map((m) => [m[1], m[2]]),
      );
    };
    const texts = () => api.sent.map((entry) => entry.message.text);

    beforeAll(async () => {
      api = await startFakeBotApi({ chats: [CHAT] });
      env = appEnv({ TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.apiRoot });
      dir = tempDir('jobsmith-supervisor-workers-');
      root = realpathSync(dir.path);
      app = path.join(root, 'app');
      execFileSync('mkdir', ['-p', path.join(app, 'storage', 'logs')]);
      writeFileSync(path.join(app, 'jobsmith.config.ts'), CONFIG);
      expect((await runCli(['migrate'], { cwd: app, env })).code).toBe(0);

      const programs = readFileSync(EXAMPLE, 'utf8')
        .replaceAll('/srv/app/node_modules/.bin/run', CLI_PATH)
        .replaceAll('/srv/app', app)
        .replace(/^user=.*\n/gm, '')
        .replace(/^numprocs=\d+$/gm, 'numprocs=1');
      writeFileSync(path.join(root, 'workers.conf'), programs);
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
          `files = ${root}/workers.conf`,
          '',
        ].join('\n'),
      );
      // The programs inherit supervisord's environment: the token and the fake's address.
      supervisord = spawn('supervisord', ['-c', conf], {
        cwd: root,
        env: cliEnv(env),
        stdio: 'ignore',
      });
      supervisordExit = new Promise((resolve) => supervisord!.once('exit', resolve));
      await waitFor(async () => (await pids()).size === PROGRAMS.length, {
        timeoutMs: 45_000,
        intervalMs: 250,
        message: 'the programs of workers.conf did not reach RUNNING',
      });
    }, 90_000);

    afterAll(async () => {
      if (supervisord && supervisord.exitCode === null) {
        await ctl('shutdown');
        const timer = setTimeout(() => supervisord?.kill('SIGKILL'), 30_000);
        await supervisordExit;
        clearTimeout(timer);
      }
      await api?.close();
      dir?.cleanup();
    }, 60_000);

    it('runs every program in the group workers; the bot answers through the sender', async () => {
      expect([...(await pids()).keys()].sort()).toEqual([...PROGRAMS].sort());
      api.pushMessage(CHAT, 'hello');
      await waitFor(() => texts().includes('pong: hello'), { timeoutMs: 20_000 });
      // scheduled:dispatch --watch queues a scheduled message for the sender.
      const scheduled = await runCli(
        ['telegram:schedule', '--chat', String(CHAT), '--text', 'later', '--in', '1s'],
        { cwd: app, env },
      );
      expect(scheduled.code, scheduled.stderr).toBe(0);
      await waitFor(() => texts().includes('later'), { timeoutMs: 20_000 });
    });

    it('queue_manager.sh drives the group with SUPERVISOR_GROUP=workers; doctor accepts the conf', async () => {
      const qm = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          'bash',
          [QUEUE_MANAGER, 'status'],
          {
            cwd: app,
            env: cliEnv({
              ...env,
              APP_DIR: app,
              SUPERVISOR_CONF: conf,
              SUPERVISOR_GROUP: 'workers',
            }),
            timeout: 60_000,
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
        );
      });
      expect(qm.code, `${qm.stdout}${qm.stderr}`).toBe(0);
      expect(qm.stdout).toMatch(/^workers:longpolling +RUNNING /m);
      expect(qm.stdout).toMatch(/^workers:telegram_00 +RUNNING /m);
      const doctor = await runCli(['doctor', '--supervisor', EXAMPLE], { cwd: app, env });
      expect(doctor.code, `${doctor.stdout}${doctor.stderr}`).toBe(0);
      expect(doctor.stdout).toContain('telegram stopwaitsecs=45 > --grace 30s');
    });

    it('supervisorctl restart workers:longpolling restarts the poller alone', async () => {
      const before = await pids();
      const restart = await ctl('restart', 'workers:longpolling');
      expect(restart.code, restart.stdout).toBe(0);
      expect(restart.stdout).toContain('workers:longpolling: stopped');
      expect(restart.stdout).toContain('workers:longpolling: started');
      // SIGTERM ended the held poll with exit 0, not a SIGKILL at stopwaitsecs.
      const log = readFileSync(path.join(root, 'supervisord.log'), 'utf8');
      expect(log).toContain('stopped: longpolling (exit status 0)');
      const after = await pids();
      expect(after.get('longpolling')).not.toBe(before.get('longpolling'));
      for (const program of PROGRAMS.filter((p) => p !== 'longpolling'))
        expect(after.get(program), program).toBe(before.get(program));
      // The new poller takes the bot's lease and continues from the stored offset.
      api.pushMessage(CHAT, 'again');
      await waitFor(() => texts().includes('pong: again'), { timeoutMs: 30_000 });
      expect(texts().filter((text) => text === 'pong: hello')).toHaveLength(1);
    });
  },
);
