/**
 * The redis connection from the command line, as an operator meets it: a producer with Redis
 * down fails fast; `--connection redis`, a job defined with `connection: 'redis'` and
 * `queue:work redis` reach Redis while QUEUE_CONNECTION says database; failed jobs of redis are
 * listed and retried back onto Redis; queue:size, queue:list and queue:clear read Redis.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { connect } from '../../src/queue/client.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { sparePort } from '../helpers/spare-port.js';
import { appEnv } from '../helpers/env.js';
import {
  deleteRedisKeys,
  describeRedis,
  redisPrefix,
  redisUrl,
  tempDir,
  type TempDir,
} from '../helpers/services.js';

const CONFIG = `
import { appendFileSync, existsSync } from 'node:fs';
import { defineConfig, defineJob, Permanent } from 'jobsmith';

const record = (what: string) => appendFileSync('runs.log', what + '\\n');

export const hello = defineJob({
  name: 'hello',
  async handle(p: { n: number }, ctx) { record('hello:' + p.n + ':' + ctx.jobId); },
});
export const onRedis = defineJob({
  name: 'on-redis',
  connection: 'redis',
  async handle(p: { n: number }, ctx) { record('on-redis:' + p.n + ':' + ctx.jobId); },
});
// Fails for good until a file named "fixed" exists in the working directory.
export const flaky = defineJob({
  name: 'flaky',
  async handle(p: { n: number }) {
    if (!existsSync('fixed')) throw new Permanent('not fixed ' + p.n);
    record('flaky:' + p.n);
  },
});

export default defineConfig({ jobs: [hello, onRedis, flaky] });
`;

describe('redis connection: a producer with Redis down', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = tempDir('jobsmith-redis-down-');
    writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), CONFIG);
  });
  afterAll(() => dir.cleanup());

  it('fails within seconds with exit 1, naming REDIS_URL with its password masked, no stack trace', async () => {
    const port = await sparePort();
    const startedAt = Date.now();
    const result = await runCli(['queue:dispatch', 'hello', '--payload', '{"n":1}'], {
      cwd: dir.path,
      env: appEnv({
        QUEUE_CONNECTION: 'redis',
        REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}`,
        LOG_FILE: path.join(dir.path, 'app.log'),
      }),
      timeoutMs: 15_000,
    });
    const tookMs = Date.now() - startedAt;
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Cannot connect to Redis at redis://:***@127.0.0.1:${port}: connection refused.\n` +
        'Check REDIS_URL and that the Redis server is running.\n',
    );
    expect(result.stdout + result.stderr).not.toContain('s3cret-pw');
    expect(tookMs).toBeLessThan(5_000);
  });
});

describeRedis('redis connection: the queue commands', () => {
  let dir: TempDir;
  let prefix: string;
  let env: Record<string, string | undefined>;
  const run = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { cwd: dir.path, env: { ...env, ...extra }, timeoutMs: 30_000 });
  const ok = async (args: string[], extra: Record<string, string> = {}) => {
    const result = await run(args, extra);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const json = async <T>(args: string[], extra: Record<string, string> = {}) =>
    JSON.parse(await ok([...args, '--json'], extra)) as T;
  const runs = () =>
    existsSync(path.join(dir.path, 'runs.log'))
      ? readFileSync(path.join(dir.path, 'runs.log'), 'utf8').split('\n').filter(Boolean)
      : [];

  beforeAll(async () => {
    dir = tempDir('jobsmith-redis-commands-');
    writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), CONFIG);
    prefix = redisPrefix('jobsmith-cmd').replace(/:$/, '');
    // QUEUE_CONNECTION stays `database`: redis is reached by name only.
    env = appEnv({
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
      DB_DATABASE: path.join(dir.path, 'database.sqlite'),
      LOG_FILE: path.join(dir.path, 'app.log'),
    });
    await ok(['migrate']);
  });
  afterAll(async () => {
    await deleteRedisKeys(redisUrl(), `${prefix}:`);
    dir.cleanup();
  });

  it('queue:work redis refuses a queue name with ":" at once, exit 2, with the fix', async () => {
    const result = await run(['queue:work', 'redis', '--queue', 'mail:high', '--stop-when-empty']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --queue must be a comma-separated list of queue names: letters, digits and . _ - (at most 190 characters); got "mail:high". No ":": Redis keeps it as its key separator.\n',
    );
  });

  it('dispatches with --connection redis and with a job defined on redis; queue:work redis runs them', async () => {
    const [byFlag] = await json<Array<{ id: string }>>([
      'queue:dispatch',
      'hello',
      '--payload',
      '{"n":1}',
      '--connection',
      'redis',
    ]);
    const [byJob] = await json<Array<{ id: string }>>([
      'queue:dispatch',
      'on-redis',
      '--payload',
      '{"n":2}',
    ]);
    expect([byFlag!.id, byJob!.id]).toEqual(['default:1', 'default:2']);
    // Nothing went to the database connection.
    expect(await json(['queue:size', 'default'])).toEqual([
      { queue: 'default', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false },
    ]);
    expect(await json(['queue:size', 'default', '--connection', 'redis'])).toEqual([
      { queue: 'default', pending: 2, delayed: 0, reserved: 0, failed: 0, paused: false },
    ]);

    const out = await ok(['queue:work', 'redis', '--stop-when-empty', '--json']);
    const processed = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; id?: string })
      .filter((e) => e.event === 'job:processed')
      .map((e) => e.id);
    expect(processed).toEqual(['default:1', 'default:2']);
    expect(runs()).toEqual(['hello:1:default:1', 'on-redis:2:default:2']);
  });

  it('dispatch from code goes to the dispatch option, else the definition, else QUEUE_CONNECTION', async () => {
    writeFileSync(
      path.join(dir.path, '.env'),
      Object.entries(env)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const onRedis = defineJob({ name: 'on-redis', connection: 'redis', handle: () => {} });
    const hello = defineJob({ name: 'hello', handle: () => {} });
    const client = await connect({ cwd: dir.path });
    try {
      const byJob = await client.dispatch(onRedis, { n: 1 });
      const byOption = await client.dispatch(hello, { n: 2 }, { connection: 'redis' });
      const byDefault = await client.dispatch(hello, { n: 3 });
      // Redis ids name their queue; the database connection's are numbers.
      expect(byJob.id).toMatch(/^default:\d+$/);
      expect(byOption.id).toMatch(/^default:\d+$/);
      expect(byDefault.id).toMatch(/^\d+$/);
      const many = await client.dispatchMany([
        { job: onRedis, payload: { n: 4 } },
        { job: hello, payload: { n: 5 }, options: { connection: 'redis' } },
      ]);
      expect(many.map((r) => r.id)).toEqual([
        expect.stringMatching(/^default:\d+$/),
        expect.stringMatching(/^default:\d+$/),
      ]);
      await expect(
        client.dispatchMany([
          { job: onRedis, payload: { n: 6 } },
          { job: hello, payload: { n: 7 } },
        ]),
      ).rejects.toThrow(
        'dispatchMany stores its jobs in one transaction, but they name different connections: redis, the default.',
      );
    } finally {
      await client.close();
    }
    expect(await json(['queue:size', 'default', '--connection', 'redis'])).toEqual([
      { queue: 'default', pending: 4, delayed: 0, reserved: 0, failed: 0, paused: false },
    ]);
    expect(await json(['queue:size', 'default'])).toEqual([
      { queue: 'default', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false },
    ]);
    await ok(['queue:clear', '--queue', 'default', '--connection', 'redis', '--force']);
    await ok(['queue:clear', '--queue', 'default', '--force']);
  });

  it('lists a failed redis job with connection redis, and queue:retry puts it back on Redis', async () => {
    await ok(['queue:dispatch', 'flaky', '--payload', '{"n":7}', '--connection', 'redis']);
    await ok(['queue:work', 'redis', '--stop-when-empty']);
    const failed = await json<Array<{ id: number; connection: string; name: string }>>([
      'queue:failed',
    ]);
    expect(failed).toMatchObject([{ connection: 'redis', name: 'flaky' }]);

    writeFileSync(path.join(dir.path, 'fixed'), '');
    expect(await ok(['queue:retry', 'all'])).toMatch(/on redis\/default → job #default:\d+/);
    expect(await json(['queue:failed'])).toEqual([]);
    expect(await json(['queue:size', '--connection', 'redis'])).toEqual([
      { queue: 'default', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false },
    ]);
    await ok(['queue:work', 'redis', '--stop-when-empty']);
    expect(runs()).toContain('flaky:7');
    expect(await json(['queue:size', '--connection', 'redis'])).toEqual([]);
  });

  it('queue:list shows redis jobs in run order and queue:clear deletes the waiting ones', async () => {
    const redis = { QUEUE_CONNECTION: 'redis' };
    const dispatch = async (args: string[]) =>
      (await json<Array<{ id: string }>>(['queue:dispatch', 'hello', ...args], redis))[0]!.id;
    const low = await dispatch(['--payload', '{"n":1}', '--queue', 'ls']);
    const high = await dispatch(['--payload', '{"n":2}', '--queue', 'ls', '--priority', '9']);
    const later = await dispatch(['--payload', '{"n":3}', '--queue', 'ls', '--delay', '1h']);
    const rows = await json<Array<{ id: string; state: string; priority: number }>>(
      ['queue:list', 'ls'],
      redis,
    );
    expect(rows.map((r) => [r.id, r.state, r.priority])).toEqual([
      [high, 'pending', 9],
      [low, 'pending', 0],
      [later, 'delayed', 0],
    ]);
    expect(await ok(['queue:clear', '--queue', 'ls', '--force'], redis)).toBe(
      'Cleared 3 jobs from queue ls.\n',
    );
    expect(await json(['queue:list', 'ls'], redis)).toEqual([]);
  });
});
