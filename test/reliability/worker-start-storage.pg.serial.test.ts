/**
 * Reliability: `run queue:work` and `run schedule:work` started before PostgreSQL listens (a
 * reboot where supervisor starts them first). They wait, printing each failure, and go on once
 * the server is up; they exit 14 once the failures have lasted --storage-timeout; a failure
 * waiting cannot fix (a refused login, a missing database) still exits 1 at once. Before, all
 * of these exited 1 at once.
 *
 * The server stopped and started is a cluster of this file's own (test/helpers/pg-cluster.ts),
 * never the shared one. Under CI=true the file must run; locally it is skipped without initdb.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { PgCluster, requirePgTools } from '../helpers/pg-cluster.js';
import { createApp, migrate, type TestApp, type WorkerEvent } from './harness.js';

const tools = requirePgTools('The worker start-up test on PostgreSQL');

const isStartError = (e: WorkerEvent) => e.event === 'worker:error' && e.during === 'start';

describe.skipIf(!tools)(
  'reliability: storage down when a worker starts, PostgreSQL (serial)',
  () => {
    let cluster: PgCluster | undefined;
    let app: TestApp | undefined;

    beforeAll(async () => {
      cluster = await PgCluster.create(tools!);
    }, 90_000);
    afterEach(async () => {
      // The app's cleanup drops its database: the server must be up for it.
      if (cluster && !(await cluster.ready())) await cluster.start().catch(() => {});
      await app?.cleanup();
      app = undefined;
    }, 60_000);
    afterAll(async () => {
      await cluster?.remove();
    }, 60_000);

    /** An app whose database exists and is migrated, with the server then stopped. */
    async function appWithServerDown(): Promise<TestApp> {
      app = await createApp('pgsql', { pgAdminUrl: cluster!.url() });
      await migrate(app);
      await cluster!.stop();
      return app;
    }

    it('a worker started while the server is down waits, connects once it is up, and runs a job', async () => {
      const a = await appWithServerDown();
      const w = a.worker(['--max-jobs', '1', '--sleep', '200ms'], { timeoutMs: 60_000 });
      // It reports the refused connection and stays up.
      const [first] = await w.waitForEvents(isStartError, 2, 20_000);
      expect(first!.error).toBe(
        `Cannot connect to PostgreSQL at ${a.env.DATABASE_URL}: connection refused.`,
      );
      expect(w.child.exitCode).toBeNull();

      await cluster!.start();
      await w.waitForEvents((e) => e.event === 'worker:started', 1, 20_000);
      const [id] = await a.dispatch('sleep', [{ ms: 10 }]);
      const result = await w.exited;

      expect(result.code, `${result.stderr}\n${w.output.slice(-3000)}`).toBe(0);
      expect(w.eventsOf('job:processed').map((e) => e.id)).toEqual([id]);
      expect(a.runs().map((r) => `${r.event} ${r.id}`)).toEqual([`start ${id}`, `done ${id}`]);
    });

    it('the server not up within --storage-timeout: the worker exits 14, naming the server', async () => {
      const a = await appWithServerDown();
      const startedAt = Date.now();
      const w = a.worker(['--storage-timeout', '2s'], { timeoutMs: 60_000 });
      const result = await w.exited;
      const tookMs = Date.now() - startedAt;

      expect(result.code, `${result.stderr}\n${w.output.slice(-3000)}`).toBe(14);
      expect(w.eventsOf('worker:error').length).toBeGreaterThan(1);
      expect(w.events().every(isStartError)).toBe(true);
      const url = a.env.DATABASE_URL!;
      const escaped = url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      expect(result.stderr).toMatch(
        new RegExp(
          `^Error: PostgreSQL at ${escaped} has been failing for \\d[^ ]* ` +
            `\\(--storage-timeout 2\\.00s\\); the last error: Cannot connect to PostgreSQL at ` +
            `${escaped}: connection refused\\.\n` +
            'Check DATABASE_URL and that the server is running\\. The process exits 14 so that ' +
            'its process manager starts it again\\.\n$',
        ),
      );
      // Not at the first failure; not long after the timeout (the backoff, a loaded machine).
      expect(tookMs).toBeGreaterThanOrEqual(2_000);
      expect(tookMs).toBeLessThan(15_000);
    });

    it('a refused login or a missing database exits 1 at once, without waiting', async () => {
      app = await createApp('pgsql', { pgAdminUrl: cluster!.url() });
      const a = app;
      await cluster!.sql('create role jobsmith_locked nologin');
      const base = new URL(a.env.DATABASE_URL!);
      const locked = new URL(base);
      locked.username = 'jobsmith_locked';
      const missing = new URL(base);
      missing.pathname = '/jobsmith_no_such_database';
      const cases = [
        [locked.href, 'authentication rejected'],
        [missing.href, 'database does not exist'],
      ] as const;
      for (const [url, reason] of cases) {
        const startedAt = Date.now();
        const w = spawnCli(['queue:work', '--json', '--storage-timeout', '30s'], {
          cwd: a.dir,
          env: { ...a.env, DATABASE_URL: url },
          timeoutMs: 40_000,
        });
        const result = await w.exited;
        // Well under --storage-timeout: it never waited.
        expect(Date.now() - startedAt).toBeLessThan(10_000);
        expect(result.code, `${url}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toBe(
          `Error: Cannot connect to PostgreSQL at ${url}: ${reason}.\n` +
            'Check DATABASE_URL and that the server is running.\n',
        );
        expect(result.stdout).toBe('');
      }
    });

    it('schedule:work started while the server is down waits, then runs once it is up', async () => {
      const a = await appWithServerDown();
      const s = spawnCli(['schedule:work', '--json'], {
        cwd: a.dir,
        env: a.env,
        timeoutMs: 60_000,
      });
      await s.waitForOutput(/"event":"scheduler:error","during":"start"/, 20_000);
      expect(s.child.exitCode).toBeNull();
      await cluster!.start();
      await s.waitForOutput(/"event":"scheduler:started"/, 20_000);
      const result = await s.stop('SIGTERM', 15_000);
      expect(result.code, result.stderr).toBe(0);
    });

    it('schedule:work exits 14 once the server has been down for --storage-timeout', async () => {
      const a = await appWithServerDown();
      const result = await spawnCli(['schedule:work', '--storage-timeout', '1s'], {
        cwd: a.dir,
        env: a.env,
        timeoutMs: 30_000,
      }).exited;
      expect(result.code, result.stderr).toBe(14);
      expect(result.stderr).toContain(
        `Error during start: Cannot connect to PostgreSQL at ${a.env.DATABASE_URL}: connection refused.\n`,
      );
      expect(result.stderr).toMatch(
        /\nError: PostgreSQL at \S+ has been failing for \d[^ ]* \(--storage-timeout 1\.00s\); the last error: Cannot connect to PostgreSQL at \S+: connection refused\.\n/,
      );
    });
  },
);
