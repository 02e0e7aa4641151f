import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { redisAvailable, redisUrl, tempDir, type TempDir } from './helpers/services.js';

const EXAMPLE_CONF = path.join(REPO_ROOT, 'examples', 'supervisor', 'jobsmith.conf');

let dir: TempDir;
let cwd: string;
beforeEach(() => {
  dir = tempDir('jobsmith-doctor-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

function writeConfig(timeouts: Record<string, number>): void {
  const jobs = Object.entries(timeouts).map(
    ([name, timeout]) => `defineJob({ name: '${name}', timeout: ${timeout}, async handle() {} })`,
  );
  writeFileSync(
    path.join(cwd, 'jobsmith.config.ts'),
    `import { defineConfig, defineJob } from 'jobsmith';\nexport default defineConfig({ jobs: [${jobs.join(', ')}] });\n`,
  );
}

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { cwd, env: appEnv(env) });

interface Report {
  ok: boolean;
  checks: Array<{ check: string; status: string; detail: string; fix: string | null }>;
}
async function doctorJson(args: string[] = [], env: Record<string, string | undefined> = {}) {
  const result = await run(['doctor', '--json', '--supervisor', EXAMPLE_CONF, ...args], env);
  return { result, report: JSON.parse(result.stdout) as Report };
}
const check = (report: Report, name: string) => report.checks.find((c) => c.check === name)!;

/** Table rows of the plain output, cells separated by ` | `. */
const rows = (stdout: string) => stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '));

describe('run doctor', () => {
  it('catches a job timeout longer than the lease: exit 1, names the job and the fix', async () => {
    writeConfig({ 'quick.job': 10, 'report.build': 120 });
    expect((await run(['migrate'])).code).toBe(0);
    const result = await run(['doctor', '--supervisor', EXAMPLE_CONF]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(rows(result.stdout)).toContain(
      '✗ | Job timeouts | timeout longer than QUEUE_LEASE 60s: report.build (120s) | ' +
        'Set QUEUE_LEASE above the longest timeout (e.g. QUEUE_LEASE=180s), or lower the timeout of report.build.',
    );
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('1 check(s) failed: Job timeouts.');
    // The same app passes once the lease covers the timeout.
    const fixed = await run(['doctor', '--supervisor', EXAMPLE_CONF], { QUEUE_LEASE: '180s' });
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(rows(fixed.stdout)).toContain(
      '✓ | Job timeouts | no timeout (longest 120s) is longer than QUEUE_LEASE 180s',
    );
  });

  it('passes a healthy app and reads the example supervisor conf (--json)', async () => {
    writeConfig({ 'quick.job': 10 });
    expect((await run(['migrate'])).code).toBe(0);
    const { result, report } = await doctorJson();
    expect(result.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['Configuration', 'ok'],
      ['Database', 'ok'],
      ['Migrations', 'ok'],
      ['Redis', 'skip'],
      ['Log folder', 'ok'],
      ['Job timeouts', 'ok'],
      ['Supervisor', 'ok'],
    ]);
    expect(check(report, 'Configuration').detail).toBe(
      'jobsmith.config.ts: 1 job(s), 0 schedule entries',
    );
    expect(check(report, 'Redis').detail).toBe('not used (QUEUE_CONNECTION=database)');
    expect(check(report, 'Supervisor').detail).toBe(
      `${EXAMPLE_CONF}: jobsmith-worker stopwaitsecs=45 > --grace 30s, jobsmith-high stopwaitsecs=45 > --grace 30s, ` +
        'jobsmith-scheduler stopwaitsecs=75 > --grace 60s',
    );
  });

  it('says which migrations are pending and to run `run migrate`', async () => {
    writeConfig({ 'quick.job': 10 });
    const { result, report } = await doctorJson();
    expect(result.code).toBe(1);
    expect(check(report, 'Migrations')).toEqual({
      check: 'Migrations',
      status: 'fail',
      detail:
        '3 pending: 0001_create_queue_tables, 0002_create_schedule_tables, 0003_jobs_fillfactor',
      fix: 'Run `run migrate` (any command that uses SQLite also applies them).',
    });
  });

  it('flags a supervisor program whose stopwaitsecs is not longer than its --grace', async () => {
    writeConfig({ 'quick.job': 10 });
    const conf = path.join(cwd, 'workers.conf');
    writeFileSync(
      conf,
      '[program:mail]\ncommand=/srv/app/node_modules/.bin/run queue:work --queue=mail --grace 60s ; drains\nstopwaitsecs=60\n\n' +
        '[program:other]\ncommand=/usr/bin/true\n\n[program:defaults]\ncommand=run queue:work\n',
    );
    const { report } = await doctorJson(['--supervisor', conf]);
    expect(check(report, 'Supervisor')).toEqual({
      check: 'Supervisor',
      status: 'fail',
      detail:
        `${conf}: mail: stopwaitsecs=60 is not longer than --grace 60s, so supervisor kills it mid-drain; ` +
        'defaults: stopwaitsecs=10 is not longer than --grace 30s, so supervisor kills it mid-drain',
      fix: `In ${conf}: set stopwaitsecs=70 in [program:mail]; set stopwaitsecs=40 in [program:defaults].`,
    });
  });

  it('checks Redis when the queue uses it, with the password masked', async () => {
    writeConfig({ 'quick.job': 10 });
    const { result, report } = await doctorJson([], {
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: 'redis://:hunter2@127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(check(report, 'Redis')).toEqual({
      check: 'Redis',
      status: 'fail',
      detail: 'Redis at redis://:***@127.0.0.1:1: connection refused',
      fix: 'Check REDIS_URL and that the Redis server is running.',
    });
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it.skipIf(!redisAvailable())('reports a reachable Redis', async () => {
    writeConfig({ 'quick.job': 10 });
    const { report } = await doctorJson([], { QUEUE_CONNECTION: 'redis', REDIS_URL: redisUrl() });
    expect(check(report, 'Redis').status).toBe('ok');
    expect(check(report, 'Redis').detail).toMatch(
      / answered PING in \d+ms \(used by QUEUE_CONNECTION=redis\)$/,
    );
  });

  it('fails the log folder check when LOG_FILE cannot be written', async () => {
    writeConfig({ 'quick.job': 10 });
    writeFileSync(path.join(cwd, 'not-a-folder'), '');
    const { report } = await doctorJson([], { LOG_FILE: 'not-a-folder/app.log' });
    expect(check(report, 'Log folder')).toMatchObject({
      status: 'fail',
      detail: `${path.join(cwd, 'not-a-folder')}: ${path.join(cwd, 'not-a-folder')} is not a folder`,
    });
  });

  it('reports an invalid environment and skips the checks that need it', async () => {
    const { result, report } = await doctorJson([], { DB_CONNECTION: 'mysql' });
    expect(result.code).toBe(1);
    expect(report.checks[0]).toEqual({
      check: 'Configuration',
      status: 'fail',
      detail:
        'Invalid configuration: DB_CONNECTION="mysql" is not valid; expected one of: sqlite, pgsql.',
      fix: 'Fix the variable in your environment or in .env.',
    });
    expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
  });

  it('does not accept a QUEUE_LEASE no timer can wait: it shows the maximum', async () => {
    const { result, report } = await doctorJson([], { QUEUE_LEASE: '90d' });
    expect(result.code).toBe(1);
    expect(report.checks[0]).toEqual({
      check: 'Configuration',
      status: 'fail',
      detail:
        'Invalid configuration: QUEUE_LEASE="90d" is not valid; expected a duration at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
      fix: 'Fix the variable in your environment or in .env.',
    });
  });

  it('does not accept a job timeout no timer can wait: it names the job and the maximum', async () => {
    writeConfig({ 'month.job': 30 * 86400 });
    const { result, report } = await doctorJson();
    expect(result.code).toBe(1);
    expect(check(report, 'Configuration')).toMatchObject({ status: 'fail' });
    expect(check(report, 'Configuration').detail).toMatch(
      /: Job month\.job: timeout must be a positive number of seconds, at most 2147483647ms \(about 24\.8 days\), the longest a timer can wait; got 2592000\.$/,
    );
    expect(check(report, 'Job timeouts')).toMatchObject({ status: 'skip' });
  });

  it('rejects a --supervisor file that cannot be read; exit 2', async () => {
    const result = await run(['doctor', '--supervisor', 'missing.conf']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --supervisor must be a readable supervisor .conf file, got "missing.conf" (ENOENT).\n',
    );
  });
});
