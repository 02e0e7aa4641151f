import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTP_TEST_CA, startSmtpDouble, type SmtpDouble } from './doubles/smtp/index.js';
import { REPO_ROOT, cliEnv, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { itWithTools } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const SCRIPT = path.join(REPO_ROOT, 'queue_manager.sh');

/**
 * mark.job records each run; slow.job records its start and, 2 s later, its end. mail.send
 * goes to the workers' queue, so `test` can send through them when mail is configured.
 */
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
  mail: { queue: 'default' },
});
`;

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('queue_manager.sh', () => {
  let dir: TempDir;
  let cwd: string;
  let env: Record<string, string | undefined>;
  let smtp: SmtpDouble;
  /** The test command without mail settings: the ping test. */
  const noMail = { MAIL_URL: undefined };

  const script = (args: string[], extra: Record<string, string | undefined> = {}) =>
    new Promise<ScriptResult>((resolve) => {
      execFile(
        'bash',
        [SCRIPT, ...args],
        { cwd, env: cliEnv({ ...env, ...extra }), timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const pidDir = () => path.join(cwd, 'storage', 'pids');
  const pids = () =>
    existsSync(pidDir())
      ? readdirSync(pidDir())
          .sort()
          .map((f) => Number(readFileSync(path.join(pidDir(), f), 'utf8')))
      : [];
  const runs = () => {
    const file = path.join(cwd, 'runs.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  };
  const dispatch = async (name: string, payload: string) => {
    const result = await runCli(['queue:dispatch', name, '--payload', payload], {
      cwd,
      env: appEnv(),
    });
    expect(result.code, result.stderr).toBe(0);
  };

  beforeAll(async () => {
    smtp = await startSmtpDouble({ security: 'starttls' });
    dir = tempDir('jobsmith-qm-');
    cwd = realpathSync(dir.path);
    writeFileSync(path.join(cwd, 'jobsmith.config.ts'), CONFIG);
    // Background mode whatever the host has. start returns as soon as the workers are up.
    env = appEnv({
      APP_DIR: cwd,
      SUPERVISOR: 'no',
      WORKERS: '2',
      GRACE: '10',
      START_WAIT: '30',
      TEST_TIMEOUT: '20',
      WORKER_ARGS: '--sleep 200ms',
      // The workers send mail.send jobs to the SMTP double.
      MAIL_URL: smtp.url,
      MAIL_FROM: 'ops@example.com',
      NODE_EXTRA_CA_CERTS: SMTP_TEST_CA,
    });
  });
  afterAll(async () => {
    await smtp?.close();
    for (const pid of pids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    dir?.cleanup();
  });

  it('prints its usage and exits 2 for an unknown or missing action', async () => {
    const unknown = await script(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(
      /^Error: unknown action "frobnicate"\.\n\nUsage: queue_manager\.sh ACTION/,
    );
    const missing = await script([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Usage: queue_manager\.sh ACTION/);
    const help = await script(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('  start            start the workers');
  });

  it('rejects a setting that is not a number, naming it; exit 2', async () => {
    const result = await script(['status'], { WORKERS: 'two' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Error: WORKERS must be a whole number >= 1, got "two".\n');
  });

  it('says no worker runs before start (status exit 3)', async () => {
    const result = await script(['status']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(`No workers (no PID files in ${pidDir()}).\n`);
  });

  it('starts workers with PID files, they process jobs, and stop drains them', async () => {
    const started = await script(['start']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const [one, two] = pids();
    expect(started.stdout).toBe(
      `Started worker 1 (pid ${one}), queues default; output in ${cwd}/storage/logs/worker.log.\n` +
        `Started worker 2 (pid ${two}), queues default; output in ${cwd}/storage/logs/worker.log.\n`,
    );
    expect([isAlive(one!), isAlive(two!)]).toEqual([true, true]);

    const again = await script(['start']);
    expect(again.stdout).toBe(
      `Worker 1 is already running (pid ${one}).\nWorker 2 is already running (pid ${two}).\n`,
    );

    const status = await script(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`worker 1: RUNNING (pid ${one})\nworker 2: RUNNING (pid ${two})\n`);

    await dispatch('mark.job', '{"n":7}');
    await waitFor(() => runs().includes('mark:7'), {
      timeoutMs: 20_000,
      message: 'mark.job did not run',
    });

    const ping = await script(['test'], noMail);
    expect(ping.stderr).toBe('');
    expect(ping.code).toBe(0);
    expect(ping.stdout).toMatch(
      /^Dispatched jobsmith\.ping #(\d+) on queue default; waiting up to 20s for a worker\.\.\.\nOK: a worker ran jobsmith\.ping #\1\.\n$/,
    );

    const mail = await script(['test', '--email', 'ops@example.com']);
    expect(mail.stderr).toBe('');
    expect(mail.code).toBe(0);
    expect(mail.stdout).toMatch(
      /^Queued mail\.send #\d+ and #\d+ on queue default; waiting up to 20s for a worker\.\.\.\nSent the password reset message to ops@example\.com \(mail\.send #\d+\): 250 Ok: queued as test-\d+\nSent the account activation message to ops@example\.com \(mail\.send #\d+\): 250 Ok: queued as test-\d+\nOK: the SMTP server took 2 message\(s\) through the queue\.\n$/,
    );
    expect(smtp.messages.map((m) => m.to)).toEqual([['ops@example.com'], ['ops@example.com']]);

    const list = await script(['list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);

    const logs = await script(['logs']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/mark\.job #\d+ DONE/);

    // Stop while a job runs: the worker finishes it before it exits.
    await dispatch('slow.job', '{}');
    await waitFor(() => runs().includes('slow:start'), { timeoutMs: 20_000 });
    const stopped = await script(['stop']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(
      `Stopping worker 1 (pid ${one}): finishing its jobs (up to 10s)...\n`,
    );
    expect(stopped.stdout.endsWith('Stopped 2 worker(s).\n')).toBe(true);
    expect(runs()).toContain('slow:done');
    expect([isAlive(one!), isAlive(two!)]).toEqual([false, false]);
    expect(pids()).toEqual([]);
    expect(readFileSync(path.join(cwd, 'storage', 'logs', 'worker.log'), 'utf8')).toMatch(
      /Worker stopped \(signal\) after \d+ job\(s\)\.\n/,
    );

    const after = await script(['status']);
    expect(after.code).toBe(3);
    // A whole start/work/stop round: 20 s alone, more next to the supervisor suite on 2 cores.
  }, 90_000);

  it('test exits 1 when no worker takes the ping within TEST_TIMEOUT', async () => {
    const result = await script(['test'], { ...noMail, TEST_TIMEOUT: '2' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: no worker ran the ping job #\d+ within 2s\. Is a worker running for queue default\? \(queue_manager\.sh status\)\n$/,
    );
  });

  it('start exits 1 and shows the log when a worker dies at once', async () => {
    const result = await script(['start'], { WORKER_ARGS: '--concurrency 0', WORKERS: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Worker(s) 1 exited right after starting. The end of');
    expect(result.stderr).toContain(
      'Error: --concurrency must be a whole number from 1 to 1000, got "0".',
    );
    expect(pids()).toEqual([]);
  });

  // .ci/run installs shellcheck; see test/helpers/tools.ts for what happens without it.
  itWithTools(['shellcheck'], 'is shellcheck-clean', () => {
    const output = execFileSync('shellcheck', ['--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(output).toBe('');
  });
});
