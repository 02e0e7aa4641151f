/**
 * Reliability: fencing of a stale worker, heartbeats, and a job that kills its worker
 * (reliability.md §A6.4, 5, 9). Real `run queue:work` processes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import {
  createApp,
  describeBackend,
  waitForEmptyQueue,
  type BackendKind,
  type TestApp,
  type WorkerProcess,
} from './harness.js';

export function leaseSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: leases', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('fencing: a worker whose lease expired changes nothing when it settles', async () => {
      // Worker A claims three jobs and blocks its event loop for 5 s (no heartbeat can run)
      // with a 1 s lease; worker B claims them once the leases expire, holds them (back from a
      // lost lease, they run one at a time, alone) and runs each 6 s, so it still holds them
      // when A wakes up and settles with its stale tokens: one complete, one
      // release (a thrown error) and one fail (Permanent).
      const modes = ['complete', 'retry', 'fail'] as const;
      const ids = await app.dispatch(
        'fence',
        modes.map((settle) => ({ blockMs: 5000, ms: 6000, settle })),
      );
      const args = ['--concurrency', '3', '--lease', '1s', '--sleep', '100ms'];
      const a = app.worker([...args, '--name', 'A']);
      await a.waitForEvents((e) => e.event === 'job:processing', 3, 15_000);
      const b = app.worker([...args, '--name', 'B']);
      await b.waitForEvents((e) => e.event === 'job:isolated', 3, 10_000);

      // A wakes up, finishes its handlers and settles each job with a stale token.
      await a.waitForEvents((e) => e.event === 'job:lost', 3, 10_000);
      expect(
        a
          .eventsOf('job:lost')
          .map((e) => e.id)
          .sort(),
      ).toEqual([...ids].sort());
      const rows = await app.jobRows();
      expect(rows.map((r) => r.id)).toEqual(ids);
      for (const row of rows) {
        // Still B's claim: A's complete, release and fail touched nothing.
        // A's lost claim ran beside other jobs: it is not charged.
        expect(row).toMatchObject({ attempts: 1, held: true, live: true });
        expect(row.token).not.toBeNull();
      }
      expect(await app.failedJobs()).toEqual([]);

      await b.waitForEvents((e) => e.event === 'job:processed', 3, 25_000);
      expect(await app.jobCount()).toBe(0);
      expect(await app.failedJobs()).toEqual([]);

      // A: lost, never processed/released/failed. B: each processed once.
      for (const event of ['job:processed', 'job:released', 'job:failed', 'job:abandoned']) {
        expect(a.eventsOf(event), `A ${event}`).toEqual([]);
      }
      for (const id of ids) expect(b.eventsOf('job:processed', id)).toHaveLength(1);
      expect(b.eventsOf('job:lost')).toEqual([]);
      // Each handler ran twice (once per claim); each job completed once (by B).
      for (const id of ids) {
        // (A's second and third handlers only start once the first one's busy loop ends.)
        const starts = app.runs().filter((r) => r.id === id && r.event === 'start');
        expect(starts.map((r) => [r.attempt, r.pid])).toEqual([
          [1, a.child.pid],
          [1, b.child.pid],
        ]);
        const done = app.runs().filter((r) => r.id === id && r.event === 'done');
        expect(done.map((r) => r.pid)).toEqual(
          id === ids[0] ? [a.child.pid, b.child.pid] : [b.child.pid],
        );
      }

      for (const w of [a, b]) expect((await w.stop('SIGTERM', 10_000)).code).toBe(0);
    }, 60_000);

    it('heartbeat: a job five times longer than its lease is never claimed twice', async () => {
      const args = ['--lease', '1s', '--sleep', '100ms'];
      const workers = [app.worker(args), app.worker(args)];
      // Both workers poll while the job runs.
      await Promise.all(
        workers.map((w) => w.waitForEvents((e) => e.event === 'worker:started', 1, 15_000)),
      );
      const [id] = await app.dispatch('sleep', [{ ms: 5000 }]);
      // Stop at the first completion, or as soon as a second claim shows up.
      const claimsOf = () => workers.flatMap((w) => w.eventsOf('job:processing', id));
      await waitFor(
        () =>
          claimsOf().length > 1 || workers.some((w) => w.eventsOf('job:processed', id).length > 0),
        { timeoutMs: 15_000, message: 'waiting for the long job to complete' },
      );
      const claims = claimsOf();
      expect(claims).toHaveLength(1);
      expect(await app.jobCount()).toBe(0);
      for (const w of workers) expect((await w.stop('SIGTERM', 10_000)).code).toBe(0);

      expect(claims[0]!.attempt).toBe(1);
      const runs = app.runs().filter((r) => r.id === id);
      expect(runs.map((r) => `${r.event}:${r.attempt}`)).toEqual(['start:1', 'done:1']);
      for (const w of workers) {
        expect(w.eventsOf('job:lost')).toEqual([]);
        expect(w.eventsOf('worker:error')).toEqual([]);
      }
      expect(await app.failedJobs()).toEqual([]);
    }, 40_000);

    it('a job that exits its worker fails after its tries with "max attempts exceeded"', async () => {
      const [id] = await app.dispatch('crash', [{}]);
      const spawned: WorkerProcess[] = [];
      let failed = false;
      // A supervisor: restart the worker each time it dies, at most 7 times.
      for (let i = 0; i < 7 && !failed; i++) {
        const w = app.worker(['--lease', '1s', '--sleep', '100ms'], { timeoutMs: 30_000 });
        spawned.push(w);
        const outcome = await waitFor(
          async () => {
            if ((await app.failedJobs()).length > 0) return 'failed';
            if (w.child.exitCode !== null || w.child.signalCode !== null) return 'exited';
            return undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: `worker #${i + 1}: crash or failure` },
        );
        if (outcome === 'failed') {
          failed = true;
          const result = await w.stop('SIGTERM', 10_000);
          expect(result.code, result.stderr).toBe(0);
        } else {
          const result = await w.exited;
          expect(result.code, `worker #${i + 1} exit code`).toBe(1);
        }
      }

      expect(failed).toBe(true);
      // Four claims ran the handler and killed their worker: the first not charged (nothing
      // had marked the job alone yet), then one per try, alone; the fifth failed the job.
      expect(spawned).toHaveLength(5);
      const starts = app.runs().filter((r) => r.id === id && r.event === 'start');
      expect(starts.map((r) => r.attempt)).toEqual([1, 1, 2, 3]);
      expect(new Set(starts.map((r) => r.pid)).size).toBe(4);

      const rows = await app.failedJobs();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ name: 'crash', reason: 'max_attempts', original_id: id });
      expect(String(rows[0]!.exception)).toContain('max attempts exceeded');
      expect(String(rows[0]!.exception)).toContain('lease ran out');
      const last = spawned[4]!;
      expect(last.eventsOf('job:failed', id)).toMatchObject([{ reason: 'max_attempts' }]);
      await waitForEmptyQueue(app, 1_000);
    }, 60_000);
  });
}
