/**
 * Reliability: concurrent claimers (reliability.md §A6.11). Four worker processes, four jobs
 * at a time each, 2,000 jobs on one SQLite file or one PostgreSQL database: every job runs
 * exactly once, and no worker crashes on SQLITE_BUSY.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  completionsById,
  createApp,
  describeBackend,
  migrate,
  type BackendKind,
  type TestApp,
} from './harness.js';

const JOBS = 2000;
const WORKERS = 4;

export function claimerSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: concurrent claimers', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it(`${WORKERS} worker processes, ${JOBS} jobs: each job runs exactly once`, async () => {
      // The `runs` table has a unique (job_id, attempt) key: a second run of the same claim
      // cannot be recorded twice, and a second claim shows up as a second attempt.
      await migrate(app);
      const ids = await app.dispatch(
        'count',
        Array.from({ length: JOBS }, () => ({})),
      );
      expect(new Set(ids).size).toBe(JOBS);

      const startedAt = Date.now();
      const workers = Array.from({ length: WORKERS }, (_, i) =>
        app.worker(
          [
            '--concurrency',
            '4',
            '--stop-when-empty',
            '--lease',
            '10s',
            '--sleep',
            '100ms',
            '--name',
            `w${i}`,
          ],
          { timeoutMs: 90_000 },
        ),
      );
      const results = await Promise.all(workers.map((w) => w.exited));
      const tookMs = Date.now() - startedAt;

      for (const [i, result] of results.entries()) {
        expect(result.timedOut, `worker ${i} timed out`).toBe(false);
        expect(result.code, `worker ${i}: ${result.stderr}`).toBe(0);
        expect(result.stdout + result.stderr).not.toMatch(/SQLITE_BUSY|database is locked/i);
        expect(workers[i]!.eventsOf('worker:error'), `worker ${i} errors`).toEqual([]);
      }

      expect(await app.jobCount()).toBe(0);
      expect(await app.failedJobs()).toEqual([]);
      expect(await app.backend.scalar('select count(*) from runs')).toBe(JOBS);
      expect(await app.backend.scalar('select count(distinct job_id) from runs')).toBe(JOBS);
      expect(await app.backend.scalar('select max(attempt) from runs')).toBe(1);

      const done = completionsById(app.runs());
      expect(done.size).toBe(JOBS);
      expect([...done.values()].every((runs) => runs.length === 1)).toBe(true);
      expect(app.runs().filter((r) => r.event === 'start')).toHaveLength(JOBS);

      const perWorker = workers.map((w) => w.eventsOf('job:processed').length);
      expect(perWorker.reduce((a, b) => a + b, 0)).toBe(JOBS);
      expect(workers.flatMap((w) => w.eventsOf('job:lost'))).toEqual([]);
      console.info(
        `[reliability ${kind}] ${JOBS} jobs on ${WORKERS} processes in ${tookMs} ms ` +
          `(per worker: ${perWorker.join(', ')})`,
      );
    }, 120_000);
  });
}
