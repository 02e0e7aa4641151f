/**
 * Reliability: Redis restarted while workers run (issue 4). Workers ride out the outage,
 * reconnect and finish; nothing is lost. Delivery is at least once, so a job whose completion
 * was cut off by the restart may run again: every job must complete at least once, and the
 * duplicates are reported.
 *
 * The shared test Redis keeps nothing on disk, so this file starts a redis-server of its own on
 * a spare port of 127.0.0.1, with an append-only file in a temp dir (fsync on every write), and
 * restarts that one. It runs in the `serial` project: a restart is slow and timing-sensitive,
 * best not squeezed between other files on two cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { probeRedis } from '../setup/services.js';
import { describeRedis, tempDir, type TempDir } from '../helpers/services.js';
import { itWithTools, missingTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { completionsById, createApp, waitForEmptyQueue, type TestApp } from './harness.js';
import { sparePort } from '../helpers/spare-port.js';

const JOBS = 200;

// .ci/run installs redis-server; see test/helpers/tools.ts for what happens without it.
const hasRedisServer = missingTools(['redis-server']).length === 0;

/** A redis-server of the test's own, persisting to an append-only file in `dir`. */
class OwnRedis {
  private child?: ChildProcess;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--save', '');
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(async () => (await probeRedis(this.url, 500)).ok, {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: `redis-server on port ${this.port} to answer PING`,
    });
  }

  /** SIGTERM: Redis flushes the append-only file and exits. Bounded; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describeRedis('reliability: Redis restart (serial)', () => {
  let dir: TempDir | undefined;
  let redis: OwnRedis | undefined;
  let app: TestApp | undefined;
  /** Apps of the tests after the first, cleaned up with it. */
  const extra: TestApp[] = [];

  beforeAll(async () => {
    if (!hasRedisServer) return;
    dir = tempDir('jobsmith-redis-restart-');
    redis = new OwnRedis(await sparePort(), dir.path);
    await redis.start();
    app = await createApp('redis', { redisUrl: redis.url });
  }, 30_000);
  afterAll(async () => {
    // Whatever happened, the server must be up for the app's cleanup, then go away.
    if (redis && !(await probeRedis(redis.url, 500)).ok) await redis.start().catch(() => {});
    await app?.cleanup();
    for (const a of extra) await a.cleanup();
    await redis?.stop();
    dir?.cleanup();
  }, 60_000);

  itWithTools(
    ['redis-server'],
    'workers reconnect after a restart and finish; every job completes',
    async () => {
      const a = app!;
      const ids = await a.dispatch(
        'sleep',
        Array.from({ length: JOBS }, () => ({ ms: 100 })),
      );
      const args = ['--concurrency', '2', '--lease', '2s', '--sleep', '200ms'];
      const workers = [
        a.worker(args, { timeoutMs: 120_000 }),
        a.worker(args, { timeoutMs: 120_000 }),
      ];

      // Restart once the workers are well into the queue.
      await waitFor(() => a.runs().filter((r) => r.event === 'done').length >= 40, {
        timeoutMs: 20_000,
        message: 'waiting for 40 jobs to complete before the restart',
      });
      const restartAt = Date.now();
      await redis!.stop();
      await redis!.start();
      const backAt = Date.now();

      await waitForEmptyQueue(a, 60_000);
      const finishedAt = Date.now();

      for (const [i, w] of workers.entries()) {
        // Still the same processes: they survived the outage.
        expect(w.child.exitCode, `worker ${i} exited early:\n${w.output.slice(-3000)}`).toBeNull();
        const result = await w.stop('SIGTERM', 15_000);
        expect(result.code, `worker ${i}: ${result.stderr}`).toBe(0);
      }
      // Both worked after the restart.
      for (const w of workers) {
        const after = w
          .eventsOf('job:processed')
          .filter((e) => Date.parse(String(e.time)) > backAt);
        expect(after.length).toBeGreaterThan(0);
      }

      // Nothing lost: every job completed at least once; nothing failed.
      expect(await a.jobCount()).toBe(0);
      expect(await a.failedJobs()).toEqual([]);
      const done = completionsById(a.runs());
      expect([...done.keys()].sort()).toEqual([...ids].sort());
      const totalDone = [...done.values()].reduce((n, runs) => n + runs.length, 0);
      const duplicated = [...done.values()].filter((runs) => runs.length > 1).length;
      const errors = workers.flatMap((w) => w.eventsOf('worker:error'));
      console.info(
        `[reliability redis] restart took ${backAt - restartAt} ms; all ${JOBS} jobs done ` +
          `${finishedAt - backAt} ms after it; ${totalDone - JOBS} duplicate run(s) ` +
          `(${duplicated} job(s) ran twice); ${errors.length} worker:error event(s) ` +
          `(${[...new Set(errors.map((e) => e.during))].join(', ')})`,
      );
    },
    120_000,
  );

  /*
   * As on PostgreSQL (pg-restart.serial.test.ts): the 20 jobs were claimed before the server
   * stopped and their handlers finished while it was down. The driver waits (3 s at most) for
   * the connection to come back; past that the worker retries with backoff while the lease
   * (10 s) holds. The server keeps its data across the restart (append-only file, fsync on
   * every write), so every completion lands once it is back and no job runs twice.
   */
  itWithTools(
    ['redis-server'],
    'a 0.2 s restart with 20 completions due: each is retried across the reconnect, no job runs twice',
    async () => {
      const JOBS = 20;
      const a = await createApp('redis', { redisUrl: redis!.url });
      extra.push(a);
      const barrier = path.join(a.dir, 'open');
      const ids = await a.dispatch(
        'gate',
        Array.from({ length: JOBS }, () => ({ file: barrier })),
      );
      const w = a.worker(['--concurrency', String(JOBS), '--lease', '10s', '--sleep', '200ms'], {
        timeoutMs: 120_000,
      });
      await waitFor(() => a.runs().filter((r) => r.event === 'start').length === JOBS, {
        timeoutMs: 20_000,
        message: `waiting for the ${JOBS} handlers to start`,
      });

      await redis!.stop();
      writeFileSync(barrier, '');
      await waitFor(() => a.runs().filter((r) => r.event === 'done').length === JOBS, {
        timeoutMs: 10_000,
        message: `waiting for the ${JOBS} handlers to finish`,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await redis!.start();

      await waitForEmptyQueue(a, 30_000);
      await w.waitForEvents((e) => e.event === 'job:processed', JOBS, 15_000);
      expect(w.child.exitCode, `the worker exited:\n${w.output.slice(-3000)}`).toBeNull();
      const runs = a.runs();
      for (const id of ids) {
        expect(
          runs.filter((r) => r.id === id).map((r) => `${r.event} ${r.attempt}`),
          `job ${id}`,
        ).toEqual(['start 1', 'done 1']);
      }
      expect(await a.failedJobs()).toEqual([]);
      expect(w.eventsOf('job:lost')).toEqual([]);
      const result = await w.stop('SIGTERM', 15_000);
      expect(result.code, result.stderr).toBe(0);
    },
  );

  itWithTools(
    ['redis-server'],
    'Redis down for longer than --storage-timeout: the idle worker exits 14, naming the server',
    async () => {
      const a = await createApp('redis', { redisUrl: redis!.url });
      extra.push(a);
      const w = a.worker(['--storage-timeout', '2s', '--sleep', '200ms'], { timeoutMs: 60_000 });
      await w.waitForEvents((e) => e.event === 'worker:started', 1, 20_000);
      await redis!.stop();
      const downAt = Date.now();
      const result = await w.exited;
      const tookMs = Date.now() - downAt;
      await redis!.start();

      expect(result.code, result.stderr).toBe(14);
      const [stopping] = w.eventsOf('worker:stopping');
      expect(stopping?.reason).toBe('storage');
      expect(String(stopping?.error)).toMatch(
        new RegExp(
          `^Redis at redis://127\\.0\\.0\\.1:${redis!.port} \\(failed jobs in .*database\\.sqlite\\) ` +
            'has been failing for \\d[^ ]* \\(--storage-timeout 2\\.00s\\); the last error: ',
        ),
      );
      expect(tookMs).toBeGreaterThanOrEqual(2_000);
      expect(tookMs).toBeLessThan(15_000);
    },
  );
});
