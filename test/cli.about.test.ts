import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './helpers/cli.js';
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
    const result = await runCli(['about'], { cwd: dir.path, env: appEnv(SECRETS) });
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
        runCli(['about'], { cwd: dir.path, env: appEnv({ QUEUE_LEASE: lease }) }),
      ),
    );
    expect(results.map((r) => /^ {2}QUEUE_LEASE +(\S+)$/m.exec(r.stdout)?.[1])).toEqual([
      '90s',
      '500ms',
      '2h',
    ]);
  });

  it('masks them in --json too', async () => {
    const result = await runCli(['about', '--json'], { cwd: dir.path, env: appEnv(SECRETS) });
    expect(result.code).toBe(0);
    const { environment } = JSON.parse(result.stdout);
    expect(environment.DATABASE_URL).toBe('postgres://bob:***@db.internal:5432/app');
    expect(environment.REDIS_URL).toBe('redis://default:***@cache.internal:6379/2');
  });

  it('prints the effective configuration as JSON, defaults included', async () => {
    const result = await runCli(['about', '--json'], {
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
      },
    });
  });

  it('never connects: it works with an unreachable database and creates no files', async () => {
    const result = await runCli(['about'], {
      cwd: dir.path,
      env: appEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: 'postgres://u@127.0.0.1:1/app' }),
    });
    expect(result.code).toBe(0);
    expect(readdirSync(dir.path)).toEqual([]);
  });
});
