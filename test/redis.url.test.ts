/**
 * REDIS_URL's database, against the real Redis: a path that is not a whole number is refused
 * at start-up (it crashed with a raw ReplyError), and a database the server does not have is a
 * ConfigError when connecting (it went on silently in database 0).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  deleteRedisKeys,
  describeRedis,
  redisCommands,
  redisPrefix,
  redisUrl,
  tempDir,
  type TempDir,
} from './helpers/services.js';

describeRedis('REDIS_URL and its database', () => {
  let dir: TempDir;
  let prefix: string;
  let databases: number;
  const url = (db: string) => `${redisUrl().replace(/\/\d*$/, '')}/${db}`;
  const run = (args: string[], env: Record<string, string>) =>
    runCli(args, {
      cwd: dir.path,
      env: appEnv({
        REDIS_PREFIX: prefix,
        DB_DATABASE: path.join(dir.path, 'db.sqlite'),
        LOG_FILE: path.join(dir.path, 'app.log'),
        ...env,
      }),
    });

  beforeAll(async () => {
    dir = tempDir('jobsmith-redis-url-');
    prefix = redisPrefix('jobsmith-url').replace(/:$/, '');
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'hello', async handle() {} })] });\n",
    );
    const [reply] = await redisCommands(redisUrl(), [['CONFIG', 'GET', 'databases']]);
    databases = Number((reply as string[])[1]);
  });
  afterAll(async () => {
    await deleteRedisKeys(url('0'), `${prefix}:`);
    dir.cleanup();
  });

  it('refuses a database the server does not have, naming REDIS_URL and how many it has', async () => {
    const result = await run(
      ['queue:dispatch', 'hello', '--payload', '{}', '--connection', 'redis'],
      {
        REDIS_URL: url(String(databases)),
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `Error: REDIS_URL ${url(String(databases))} selects database ${databases}, which the Redis server does not have; the server has ${databases} (0 to ${databases - 1}).\n` +
        'Use a database the server has in REDIS_URL (redis://host:6379/0), or raise `databases` in redis.conf.\n',
    );
    // Nothing went to database 0 instead.
    const [keys] = await redisCommands(url('0'), [['KEYS', `${prefix}:*`]]);
    expect(keys).toEqual([]);
  });

  it('says the same in run doctor', async () => {
    const result = await run(['doctor', '--json'], {
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: url(String(databases)),
    });
    const redis = JSON.parse(result.stdout).checks.find(
      (c: { check: string }) => c.check === 'Redis',
    );
    expect(redis).toEqual({
      check: 'Redis',
      status: 'fail',
      detail: `REDIS_URL ${url(String(databases))} selects database ${databases}, which the Redis server does not have; the server has ${databases} (0 to ${databases - 1}). (used by QUEUE_CONNECTION=redis)`,
      fix: 'Use a database the server has in REDIS_URL (redis://host:6379/0), or raise `databases` in redis.conf.',
    });
  });

  it('refuses a database that is not a whole number without a stack trace', async () => {
    const result = await run(
      ['queue:dispatch', 'hello', '--payload', '{}', '--connection', 'redis'],
      {
        REDIS_URL: url('abc'),
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/ReplyError|\n\s+at /);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Invalid configuration: REDIS_URL="${url('abc')}" is not valid; expected a redis:// or rediss:// URL whose database (the path, or ?db=) is a whole number, such as redis://127.0.0.1:6379/0.`,
    );
  });

  it('stores the jobs in the database the URL names', async () => {
    const db = String(databases - 1);
    const result = await run(
      ['queue:dispatch', 'hello', '--payload', '{}', '--connection', 'redis', '--json'],
      { REDIS_URL: url(db) },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [inDb] = await redisCommands(url(db), [['EXISTS', `${prefix}:default:1`]]);
    expect(inDb).toBe(1);
    await deleteRedisKeys(url(db), `${prefix}:`);
  });
});
