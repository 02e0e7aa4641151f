import { readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { REPO_ROOT } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-about-');
});
afterEach(() => dir.cleanup());

const SECRETS = {
  DATABASE_URL: 'postgres://bob:s3cretpw@db.internal:5432/app',
  REDIS_URL: 'redis://default:r3dispw@cache.internal:6379/2',
};

describe('run about', () => {
  it('masks the passwords in DATABASE_URL and REDIS_URL', async () => {
    const result = await runCliInHost(['about'], { cwd: dir.path, env: appEnv(SECRETS) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^ {2}DATABASE_URL +postgres:\/\/bob:\*\*\*@db\.internal:5432\/app$/m,
    );
    expect(result.stdout).toMatch(
      /^ {2}REDIS_URL +redis:\/\/default:\*\*\*@cache\.internal:6379\/2$/m,
    );
    expect(result.stdout + result.stderr).not.toMatch(/s3cretpw|r3dispw/);
  });

  it('prints durations as the variable takes them, never in milliseconds', async () => {
    const results = await Promise.all(
      ['90', '500ms', '2h'].map((lease) =>
        runCliInHost(['about'], { cwd: dir.path, env: appEnv({ QUEUE_LEASE: lease }) }),
      ),
    );
    expect(results.map((r) => /^ {2}QUEUE_LEASE +(\S+)$/m.exec(r.stdout)?.[1])).toEqual([
      '90s',
      '500ms',
      '2h',
    ]);
  });

  it('masks secret settings (MAIL_PASSWORD, TELEGRAM_BOT_TOKEN) and MAIL_URL’s password, in text and JSON', async () => {
    const env = appEnv({
      MAIL_URL: 'smtp://mailer:m41lpw-secret@smtp.example.com:587',
      MAIL_PASSWORD: 'hunter2hunter2',
      TELEGRAM_BOT_TOKEN: '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1',
      DASHBOARD_TOKEN: 'dAsHb0ard-t0ken-0123456789',
    });
    const text = await runCliInHost(['about'], { cwd: dir.path, env });
    const json = await runCliInHost(['about', '--json'], { cwd: dir.path, env });
    expect(text.stdout).toMatch(/^ {2}MAIL_URL +smtp:\/\/mailer:\*\*\*@smtp\.example\.com:587$/m);
    expect(text.stdout).toMatch(/^ {2}MAIL_PASSWORD +\*\*\*$/m);
    const { environment } = JSON.parse(json.stdout);
    expect(environment).toMatchObject({
      MAIL_URL: 'smtp://mailer:***@smtp.example.com:587',
      MAIL_PASSWORD: '***',
      TELEGRAM_BOT_TOKEN: '***',
      DASHBOARD_TOKEN: '***',
    });
    expect(text.stdout + json.stdout).not.toMatch(/m41lpw|hunter2|AAHdqTcv|dAsHb0ard/);
  });

  it('refuses a DASHBOARD_TOKEN that is too short without printing it', async () => {
    const result = await runCliInHost(['about'], {
      cwd: dir.path,
      env: appEnv({ DASHBOARD_TOKEN: 'sh0rtT0k' }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DASHBOARD_TOKEN');
    expect(result.stderr).toContain('at least 16 characters');
    expect(result.stdout + result.stderr).not.toContain('sh0rtT0k');
  });

  it('masks them in --json too', async () => {
    const result = await runCliInHost(['about', '--json'], { cwd: dir.path, env: appEnv(SECRETS) });
    expect(result.code).toBe(0);
    const { environment } = JSON.parse(result.stdout);
    expect(environment.DATABASE_URL).toBe('postgres://bob:***@db.internal:5432/app');
    expect(environment.REDIS_URL).toBe('redis://default:***@cache.internal:6379/2');
  });

  it('prints the effective configuration as JSON, defaults included', async () => {
    const result = await runCliInHost(['about', '--json'], {
      cwd: dir.path,
      env: appEnv({ LOG_LEVEL: 'warn' }),
    });
    expect(result.code).toBe(0);
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
    expect(JSON.parse(result.stdout)).toEqual({
      version,
      node: process.version,
      cwd: realpathSync(dir.path),
      configFile: null,
      jobs: [],
      queues: [],
      rateLimits: [],
      breakers: [],
      environment: {
        DB_CONNECTION: 'sqlite',
        DB_DATABASE: 'storage/database.sqlite',
        MIGRATE_ON_START: true,
        QUEUE_CONNECTION: 'database',
        QUEUE_LEASE: '1m',
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_PREFIX: 'jobsmith',
        LOG_LEVEL: 'warn',
        LOG_FILE: 'storage/logs/app.log',
        TELEMETRY_ENABLED: false,
        METRICS_HOST: '127.0.0.1',
        DASHBOARD_READ_ONLY: false,
        TELEGRAM_API_ROOT: 'https://api.telegram.org',
        OPENAI_BASE_URL: 'https://api.openai.com/v1',
        OPENAI_MODEL: 'gpt-4o-mini',
        OPENAI_TIMEOUT: '30s',
        MAIL_TIMEOUT: '10s',
        METRICS_RETENTION: '7d',
      },
    });
  });

  it('never connects: it works with an unreachable database and creates no files', async () => {
    const result = await runCliInHost(['about'], {
      cwd: dir.path,
      env: appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: 'postgres://u@127.0.0.1:1/app' }),
    });
    expect(result.code).toBe(0);
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

const POLICY_CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const send = defineJob({ name: 'mail.send', queue: 'mail', tries: 5, timeout: 20, async handle() {} });
export default defineConfig({
  jobs: [send],
  queues: { mail: { tries: 2, backoff: [1, 2] }, rewrite: { concurrency: 4, globalConcurrency: 8 } },
});
`;

describe('run about: queue policies', () => {
  beforeEach(() => writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), POLICY_CONFIG));

  it("shows each queue's tries, backoff, timeout and concurrency and where each came from", async () => {
    const result = await runCliInHost(['about', '--json'], {
      cwd: dir.path,
      env: appEnv({
        QUEUE_MAIL_TRIES: '9',
        QUEUE_REWRITE_TIMEOUT: '90',
        QUEUE_MAIL_GLOBAL_CONCURRENCY: '3',
      }),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).queues).toEqual([
      {
        name: 'mail',
        tries: { value: 9, source: 'env', from: 'QUEUE_MAIL_TRIES' },
        backoff: { value: [1, 2], source: 'queue', from: 'queues.mail.backoff' },
        timeout: { value: '20s', source: 'job', from: 'mail.send' },
        concurrency: { value: 1, source: 'default', from: 'built-in' },
        globalConcurrency: { value: 3, source: 'env', from: 'QUEUE_MAIL_GLOBAL_CONCURRENCY' },
      },
      {
        name: 'rewrite',
        tries: { value: 3, source: 'default', from: 'built-in' },
        backoff: { value: [10, 30, 60], source: 'default', from: 'built-in' },
        timeout: { value: '90s', source: 'env', from: 'QUEUE_REWRITE_TIMEOUT' },
        concurrency: { value: 4, source: 'queue', from: 'queues.rewrite.concurrency' },
        globalConcurrency: {
          value: 8,
          source: 'queue',
          from: 'queues.rewrite.globalConcurrency',
        },
      },
    ]);
  });

  it('gives a queue with no global cap globalConcurrency null in JSON, none in the table', async () => {
    const json = await runCliInHost(['about', '--json'], { cwd: dir.path, env: appEnv() });
    expect(json.code, json.stderr).toBe(0);
    const [mail] = JSON.parse(json.stdout).queues;
    expect(mail.globalConcurrency).toEqual({ value: null, source: 'default', from: 'built-in' });
    const table = await runCliInHost(['about'], { cwd: dir.path, env: appEnv() });
    expect(table.stdout).toMatch(/^ {4}globalConcurrency +none +default: built-in$/m);
  });

  it('prints them as a table, and names a queue variable that matches no known queue', async () => {
    const result = await runCliInHost(['about'], {
      cwd: dir.path,
      env: appEnv({ QUEUE_MAIL_TRIES: '9', QUEUE_MAILS_TRIES: '4' }),
    });
    expect(result.code).toBe(0);
    // The job's line shows what a worker runs: the queue's tries over the job's own 5.
    expect(result.stdout).toMatch(
      /^ {2}mail\.send +queue=mail tries=9 \(env: QUEUE_MAIL_TRIES\) timeout=20s$/m,
    );
    expect(result.stdout).toMatch(/^ {4}tries +9 +env: QUEUE_MAIL_TRIES$/m);
    expect(result.stdout).toMatch(/^ {4}backoff +1,2 +queue: queues\.mail\.backoff$/m);
    expect(result.stdout).toMatch(/^ {4}globalConcurrency +none +default: built-in$/m);
    expect(result.stdout).toMatch(
      /^ {4}globalConcurrency +8 +queue: queues\.rewrite\.globalConcurrency$/m,
    );
    expect(result.stdout).toContain('  QUEUE_MAILS_TRIES is set but names none of these queues.');
  });

  it('refuses a bad queue variable at start-up with exit 1, naming it, its value and what is allowed', async () => {
    const result = await runCliInHost(['about'], {
      cwd: dir.path,
      env: appEnv({ QUEUE_MAIL_TRIES: '0' }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: QUEUE_MAIL_TRIES="0" is not valid; expected a whole number from 1 to 1000000.\n' +
        'Fix the variable in your environment or in .env.\n',
    );
  });
});

const FLOW_CONFIG = `import { breaker, defineConfig, defineJob, rateLimited } from 'jobsmith';
const ask = defineJob({
  name: 'gpt.ask',
  breaker: { name: 'openai', failures: 3, window: '2m', cooldown: 45 },
  middleware: [rateLimited('openai.rpm')],
  async handle() {},
});
const embed = defineJob({
  name: 'gpt.embed',
  middleware: [breaker({ name: 'openai', failures: 3, window: '2m', cooldown: 45 })],
  async handle() {},
});
const send = defineJob({ name: 'tg.send', breaker: { name: 'telegram' }, async handle() {} });
export default defineConfig({
  jobs: [ask, embed, send],
  rateLimits: { 'openai.rpm': { limit: 500, per: '1m' }, 'tg.chat': { limit: 1, per: 1, burst: 2 } },
});
`;

describe('run about: rate limits and breakers', () => {
  // An unreachable database: about shows the config's settings without reading any state.
  const env = () =>
    appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: 'postgres://u@127.0.0.1:1/app' });
  beforeEach(() => writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), FLOW_CONFIG));

  it('lists each rate limit and each breaker a job names, with its jobs, in JSON', async () => {
    const result = await runCliInHost(['about', '--json'], { cwd: dir.path, env: env() });
    expect(result.code, result.stderr).toBe(0);
    const about = JSON.parse(result.stdout);
    expect(about.rateLimits).toEqual([
      { name: 'openai.rpm', limit: 500, per: '1m', perMs: 60_000, burst: 0 },
      { name: 'tg.chat', limit: 1, per: '1s', perMs: 1000, burst: 2 },
    ]);
    expect(about.breakers).toEqual([
      {
        name: 'openai',
        failures: 3,
        window: '2m',
        windowMs: 120_000,
        cooldown: '45s',
        cooldownMs: 45_000,
        jobs: ['gpt.ask', 'gpt.embed'],
      },
      {
        name: 'telegram',
        failures: 5,
        window: '1m',
        windowMs: 60_000,
        cooldown: '30s',
        cooldownMs: 30_000,
        jobs: ['tg.send'],
      },
    ]);
  });

  it('prints them as a table', async () => {
    const result = await runCliInHost(['about'], { cwd: dir.path, env: env() });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    const from = lines.indexOf('Rate limits (2)');
    expect(lines.slice(from, from + 6)).toEqual([
      'Rate limits (2)',
      `  ${'openai.rpm'.padEnd(30)} 500 per 1m`,
      `  ${'tg.chat'.padEnd(30)} 1 per 1s, burst 2`,
      'Breakers (2)',
      `  ${'openai'.padEnd(30)} 3 failure(s) in 2m, cooldown 45s; jobs: gpt.ask, gpt.embed`,
      `  ${'telegram'.padEnd(30)} 5 failure(s) in 1m, cooldown 30s; jobs: tg.send`,
    ]);
  });
});
