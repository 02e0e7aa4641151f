/**
 * Reliability: `run queue:work` started before Redis listens (a reboot where supervisor starts
 * it first). It waits, printing each failure, and connects once the server is up; it exits 14
 * once the failures have lasted --storage-timeout; a refused login still exits 1 at once.
 * Before, all of these exited 1 at once.
 *
 * The Redis server is one of this file's own (test/helpers/own-redis.ts), started on a spare
 * port the worker was already pointed at; the shared server is never touched.
 */
import { afterEach, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { startOwnRedis, type OwnRedis } from '../helpers/own-redis.js';
import { sparePort } from '../helpers/spare-port.js';
import { describeWithTools } from '../helpers/tools.js';
import { createApp, type TestApp, type WorkerEvent } from './harness.js';

const isStartError = (e: WorkerEvent) => e.event === 'worker:error' && e.during === 'start';

describeWithTools(['redis-server'], 'reliability: Redis down when a worker starts (serial)', () => {
  let app: TestApp | undefined;
  let redis: OwnRedis | undefined;

  afterEach(async () => {
    // The app's cleanup removes its keys: the server must be up for it, then go away.
    await app?.cleanup();
    app = undefined;
    await redis?.stop();
    redis = undefined;
  }, 60_000);

  it('a worker started while Redis is down waits, connects once it is up, and runs a job', async () => {
    const port = await sparePort();
    app = await createApp('redis', { redisUrl: `redis://127.0.0.1:${port}` });
    const a = app;
    const w = a.worker(['--max-jobs', '1', '--sleep', '200ms'], { timeoutMs: 60_000 });
    const [first] = await w.waitForEvents(isStartError, 2, 20_000);
    expect(first!.error).toBe(
      `Cannot connect to Redis at redis://127.0.0.1:${port}: connection refused.`,
    );
    expect(w.child.exitCode).toBeNull();

    redis = await startOwnRedis([], { port });
    await w.waitForEvents((e) => e.event === 'worker:started', 1, 20_000);
    const [id] = await a.dispatch('sleep', [{ ms: 10 }]);
    const result = await w.exited;

    expect(result.code, `${result.stderr}\n${w.output.slice(-3000)}`).toBe(0);
    expect(w.eventsOf('job:processed').map((e) => e.id)).toEqual([id]);
    expect(a.runs().map((r) => `${r.event} ${r.id}`)).toEqual([`start ${id}`, `done ${id}`]);
  });

  it('Redis not up within --storage-timeout: the worker exits 14, naming the server', async () => {
    const port = await sparePort();
    app = await createApp('redis', { redisUrl: `redis://127.0.0.1:${port}` });
    const a = app;
    const startedAt = Date.now();
    const w = a.worker(['--storage-timeout', '2s'], { timeoutMs: 60_000 });
    const result = await w.exited.finally(async () => {
      // Up for the app's cleanup, which removes its keys.
      redis = await startOwnRedis([], { port });
    });
    const tookMs = Date.now() - startedAt;

    expect(result.code, `${result.stderr}\n${w.output.slice(-3000)}`).toBe(14);
    expect(w.eventsOf('worker:error').length).toBeGreaterThan(1);
    expect(w.events().every(isStartError)).toBe(true);
    expect(result.stderr).toMatch(
      new RegExp(
        `^Error: Redis at redis://127\\.0\\.0\\.1:${port} \\(failed jobs in ${a.dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/database\\.sqlite\\) ` +
          `has been failing for \\d[^ ]* \\(--storage-timeout 2\\.00s\\); the last error: ` +
          `Cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: connection refused\\.\n` +
          'Check REDIS_URL and that the Redis server is running, and DB_DATABASE for failed ' +
          'jobs\\. The process exits 14 so that its process manager starts it again\\.\n$',
      ),
    );
    expect(tookMs).toBeGreaterThanOrEqual(2_000);
    expect(tookMs).toBeLessThan(15_000);
  });

  it('schedule:work on the redis connection waits for Redis too: exit 14 after --storage-timeout', async () => {
    const port = await sparePort();
    app = await createApp('redis', { redisUrl: `redis://127.0.0.1:${port}` });
    const a = app;
    const result = await spawnCli(['schedule:work', '--json', '--storage-timeout', '2s'], {
      cwd: a.dir,
      env: a.env,
      timeoutMs: 40_000,
    }).exited.finally(async () => {
      // Up for the app's cleanup, which removes its keys.
      redis = await startOwnRedis([], { port });
    });
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-2000)}`).toBe(14);
    expect(result.stdout).toContain('"event":"scheduler:error"');
    expect(result.stdout).not.toContain('"event":"scheduler:started"');
    expect(result.stderr).toContain(
      `the last error: Cannot connect to Redis at redis://127.0.0.1:${port}: connection refused.`,
    );
  });

  it('a refused login (WRONGPASS) exits 1 at once, without waiting', async () => {
    redis = await startOwnRedis();
    app = await createApp('redis', { redisUrl: redis.url });
    const a = app;
    // No such user: Redis answers AUTH with WRONGPASS.
    const url = `redis://jobsmith-nobody:not-the-password@127.0.0.1:${redis.port}`;
    const startedAt = Date.now();
    const result = await spawnCli(['queue:work', '--json', '--storage-timeout', '30s'], {
      cwd: a.dir,
      env: { ...a.env, REDIS_URL: url },
      timeoutMs: 40_000,
    }).exited;
    // Well under --storage-timeout: it never waited.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(
      `Error: Cannot connect to Redis at redis://jobsmith-nobody:***@127.0.0.1:${redis.port}: authentication failed (wrong user name or password).\n` +
        'Check REDIS_URL and that the Redis server is running.\n',
    );
    expect(result.stdout).toBe('');
  });
});
