/**
 * Reliability: globalConcurrency across processes (docs/concurrency.md). Four `run queue:work`
 * processes of three jobs each on a queue capped at three across all workers
 * (QUEUE_DEFAULT_GLOBAL_CONCURRENCY=3): at no moment do more than three handlers run, though
 * the workers could run twelve, and every job finishes exactly once.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  createApp,
  describeBackend,
  type BackendKind,
  type RunRecord,
  type TestApp,
} from './harness.js';

const JOBS = 30;
const WORKERS = 4;
const CAP = 3;

/** The most handlers running at once, from their start and done records (any process). */
function mostAtOnce(runs: RunRecord[]): number {
  const edges = runs
    .filter((r) => r.event === 'start' || r.event === 'done')
    .map((r) => ({ at: r.at, by: r.event === 'start' ? 1 : -1 }))
    // In the same millisecond an end goes first: the next claim waits for the completion.
    .sort((a, b) => a.at - b.at || a.by - b.by);
  let now = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (now += edge.by));
  return most;
}

export function globalConcurrencySpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: globalConcurrency across processes', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it(`${WORKERS} workers of ${CAP} jobs each, a cap of ${CAP}: never more than ${CAP} handlers at once`, async () => {
      app.env.QUEUE_DEFAULT_GLOBAL_CONCURRENCY = String(CAP);
      const ids = await app.dispatch(
        'sleep',
        Array.from({ length: JOBS }, () => ({ ms: 150 })),
      );
      expect(new Set(ids).size).toBe(JOBS);
      const workers = Array.from({ length: WORKERS }, (_, i) =>
        app.worker(
          [
            '--concurrency',
            String(CAP),
            '--stop-when-empty',
            '--sleep',
            '100ms',
            '--name',
            `w${i}`,
          ],
          { timeoutMs: 90_000 },
        ),
      );
      const results = await Promise.all(workers.map((w) => w.exited));
      for (const [i, result] of results.entries()) {
        expect(result.timedOut, `worker ${i} timed out`).toBe(false);
        expect(result.code, `worker ${i}: ${result.stderr}`).toBe(0);
        expect(workers[i]!.eventsOf('worker:error'), `worker ${i} errors`).toEqual([]);
        expect(workers[i]!.eventsOf('worker:started')[0]).toMatchObject({
          caps: { globalConcurrency: { default: CAP } },
        });
      }
      expect(await app.jobCount()).toBe(0);
      expect(await app.failedJobs()).toEqual([]);
      const runs = app.runs();
      expect(runs.filter((r) => r.event === 'done')).toHaveLength(JOBS);
      expect(new Set(runs.filter((r) => r.event === 'done').map((r) => r.id)).size).toBe(JOBS);
      const most = mostAtOnce(runs);
      expect(most).toBeLessThanOrEqual(CAP);
      // The cap was reached (12 places in the workers, 30 jobs): it held under pressure.
      expect(most).toBe(CAP);
    });
  });
}
