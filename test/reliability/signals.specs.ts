/**
 * Reliability: a worker killed with SIGKILL, a SIGTERM drain, and a handler that ignores its
 * abort at shutdown (reliability.md §A6.1–3). Real `run queue:work` processes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS } from '../../src/worker/stop-signals.js';
import { waitFor } from '../helpers/wait.js';
import {
  completionsById,
  createApp,
  describeBackend,
  waitForEmptyQueue,
  type BackendKind,
  type TestApp,
} from './harness.js';

const LEASE_MS = 2000;
/** The jobs of the kill -9 test: the five back from the lost lease run one after another. */
const KILLED_JOB_MS = 1500;

export function signalSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: crashes and signals', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('kill -9 with 5 jobs in flight: a new worker completes every job exactly once, the five alone', async () => {
      const ids = await app.dispatch(
        'sleep',
        Array.from({ length: 8 }, () => ({ ms: KILLED_JOB_MS })),
      );
      const lease = ['--lease', `${LEASE_MS}ms`, '--sleep', '100ms'];
      const a = app.worker(['--concurrency', '5', ...lease]);
      const processing = await a.waitForEvents((e) => e.event === 'job:processing', 5, 15_000);
      const inFlight = processing.map((e) => e.id!);
      // Every in-flight handler is really running (its side effect has started).
      await waitFor(
        () => app.runs().filter((r) => r.event === 'start' && r.pid === a.child.pid).length === 5,
        { message: 'waiting for 5 handlers to start' },
      );

      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect((await a.exited).signal).toBe('SIGKILL');

      const b = app.worker(['--concurrency', '8', ...lease]);
      await waitForEmptyQueue(app, LEASE_MS + 5 * KILLED_JOB_MS + 8_000);
      const recoveredAt = Date.now();
      const stopped = await b.stop('SIGTERM', 10_000);
      expect(stopped.code, stopped.stderr).toBe(0);

      // Re-claimed through the lease, not later: within lease + poll + slack, to run alone.
      const reclaims = b
        .eventsOf('job:isolated')
        .filter((e) => inFlight.includes(e.id!))
        .map((e) => Date.parse(String(e.time)) - killedAt);
      expect(reclaims).toHaveLength(5);
      expect(Math.max(...reclaims)).toBeLessThan(LEASE_MS + 2_000);
      // One at a time: each starts after the one before it ended.
      const order = b
        .events()
        .filter((e) => inFlight.includes(e.id!))
        .filter((e) => e.event === 'job:processing' || e.event === 'job:processed')
        .map((e) => e.event);
      expect(order).toEqual(
        Array.from({ length: 5 }, () => ['job:processing', 'job:processed']).flat(),
      );
      // All done within lease + five jobs one after another + a few seconds.
      expect(recoveredAt - killedAt).toBeLessThan(LEASE_MS + 5 * KILLED_JOB_MS + 4_000);
      console.info(
        `[reliability ${kind}] kill -9: in-flight jobs re-claimed ${Math.min(...reclaims)}–` +
          `${Math.max(...reclaims)} ms after the kill (lease ${LEASE_MS} ms); all jobs done ` +
          `${recoveredAt - killedAt} ms after the kill`,
      );

      // None lost, each completed exactly once, on its first attempt: the kill cost nothing.
      expect(await app.jobCount()).toBe(0);
      expect(await app.failedJobs()).toEqual([]);
      const done = completionsById(app.runs());
      expect([...done.keys()].sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const runs = done.get(id)!;
        expect(runs, `job ${id}`).toHaveLength(1);
        expect(runs[0]!.pid).toBe(b.child.pid);
        expect(runs[0]!.attempt, `job ${id}`).toBe(1);
      }
      expect(b.eventsOf('job:processed')).toHaveLength(8);
      expect(b.eventsOf('job:failed')).toEqual([]);
    }, 40_000);

    it('SIGTERM drains: in-flight jobs finish, nothing new is claimed, exit 0, nothing left reserved', async () => {
      const ids = await app.dispatch(
        'sleep',
        Array.from({ length: 10 }, () => ({ ms: 1500 })),
      );
      const w = app.worker(['--concurrency', '2', '--lease', '2s', '--grace', '30s']);
      const started = await w.waitForEvents((e) => e.event === 'job:processing', 2, 15_000);
      w.child.kill('SIGTERM');
      const signalledAt = Date.now();
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(1500 + 3_000);
      const inFlight = started.map((e) => e.id!).sort();
      // Nothing claimed after the signal; the two in flight completed.
      expect(
        w
          .eventsOf('job:processing')
          .map((e) => e.id)
          .sort(),
      ).toEqual(inFlight);
      expect(
        w
          .eventsOf('job:processed')
          .map((e) => e.id)
          .sort(),
      ).toEqual(inFlight);
      expect(w.eventsOf('job:abandoned')).toEqual([]);
      expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'signal', exitCode: 0 });
      expect([...completionsById(app.runs()).keys()].sort()).toEqual(inFlight);

      // Nothing left reserved; the queued jobs are untouched.
      expect(await app.liveReserved()).toBe(0);
      const rows = await app.jobRows();
      expect(rows.map((r) => r.id).sort()).toEqual(
        ids.filter((id) => !inFlight.includes(id)).sort(),
      );
      for (const row of rows) expect(row).toMatchObject({ attempts: 0, held: false, token: null });
      expect(await app.failedJobs()).toEqual([]);
    }, 30_000);

    it('a handler that ignores its abort is released at the end of --grace, its attempt counted', async () => {
      const [id] = await app.dispatch('stubborn', [{ ms: 20_000 }]);
      // A long lease, so a job that comes back at once was released, not left to expire.
      const w = app.worker(['--lease', '30s', '--grace', '1s']);
      await w.waitForEvents((e) => e.event === 'job:processing' && e.id === id, 1, 15_000);
      await waitFor(() => app.runs().some((r) => r.event === 'start' && r.id === id), {
        message: 'waiting for the handler to start',
      });

      w.child.kill('SIGTERM');
      const signalledAt = Date.now();
      const result = await w.exited;
      const tookMs = Date.now() - signalledAt;

      expect(result.code, result.stderr).toBe(0);
      expect(tookMs).toBeLessThan(1000 + 2_500);
      expect(w.eventsOf('job:abandoned', id)).toHaveLength(1);
      expect(w.eventsOf('job:processed')).toEqual([]);
      // The handler saw its signal abort, ignored it, and never finished.
      const runs = app.runs().filter((r) => r.id === id);
      expect(runs.map((r) => r.event)).toEqual(['start', 'aborted']);

      const rows = (await app.jobRows()).filter((r) => r.id === id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempts: 1, held: false, token: null, ready: true });
      expect(await app.liveReserved()).toBe(0);
      console.info(`[reliability ${kind}] --grace 1s: worker exited ${tookMs} ms after SIGTERM`);
    }, 30_000);

    it('two SIGTERMs 50 ms apart are one stop: the running job finishes within --grace', async () => {
      const [id] = await app.dispatch('sleep', [{ ms: 1500 }]);
      const w = app.worker(['--lease', '30s', '--grace', '30s']);
      await w.waitForEvents((e) => e.event === 'job:processing' && e.id === id, 1, 15_000);
      w.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 50));
      w.child.kill('SIGTERM');
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(0);
      expect(w.eventsOf('job:processed', id)).toHaveLength(1);
      expect(w.eventsOf('job:abandoned')).toEqual([]);
      expect(
        app
          .runs()
          .filter((r) => r.id === id)
          .map((r) => r.event),
      ).toEqual(['start', 'done']);
      expect(await app.jobCount()).toBe(0);
    }, 30_000);

    it(`a second signal more than ${REPEAT_WINDOW_MS} ms after the first releases in-flight jobs at once`, async () => {
      const [id] = await app.dispatch('stubborn', [{ ms: 20_000 }]);
      const w = app.worker(['--lease', '30s', '--grace', '30s']);
      await w.waitForEvents((e) => e.event === 'job:processing' && e.id === id, 1, 15_000);
      w.child.kill('SIGTERM');
      const firstAt = Date.now();
      await w.waitForEvents((e) => e.event === 'worker:stopping', 1, 5_000);
      // A repeat within the window would be the same stop (the test above).
      await waitFor(() => Date.now() - firstAt > REPEAT_WINDOW_MS + 100, { intervalMs: 50 });
      w.child.kill('SIGTERM');
      const signalledAt = Date.now();
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(2_500);
      expect(w.eventsOf('job:abandoned', id)).toHaveLength(1);
      const rows = (await app.jobRows()).filter((r) => r.id === id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempts: 1, held: false, ready: true });
    }, 30_000);

    it('a handler that ignores its timeout makes the worker exit 13; the job runs again one lease later, its cause kept', async () => {
      const [id] = await app.dispatch('stubborn', [{ ms: 20_000, laterMs: 100 }]);
      // Stuck grace is lease/4, at least 1 s: exit about 2 s after the claim.
      const w = app.worker(['--lease', `${LEASE_MS}ms`, '--timeout', '1s', '--sleep', '100ms']);
      const result = await w.exited;
      const exitedAt = Date.now();
      expect(result.code, result.stderr).toBe(13);
      expect(w.eventsOf('job:stuck', id)).toHaveLength(1);
      expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'stuck', exitCode: 13 });
      expect(w.eventsOf('job:processed')).toEqual([]);
      // Put back to wait one lease, its attempt spent and the timeout kept as its error.
      const [released] = w.eventsOf('job:released', id);
      expect(released).toMatchObject({ delayMs: LEASE_MS });
      expect(String(released!.error)).toContain('timed out after 1s');
      const rows = (await app.jobRows()).filter((r) => r.id === id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempts: 1, held: false, ready: false });

      // The supervisor's next worker gets it once the lease ends.
      const next = app.worker(['--lease', `${LEASE_MS}ms`, '--sleep', '100ms']);
      const [claim] = await next.waitForEvents(
        (e) => e.event === 'job:processing' && e.id === id,
        1,
        LEASE_MS + 8_000,
      );
      expect(claim!.attempt).toBe(2);
      expect(Date.parse(String(claim!.time)) - exitedAt).toBeLessThan(LEASE_MS + 1_000);
      await next.waitForEvents((e) => e.event === 'job:processed' && e.id === id, 1, 10_000);
      expect((await next.stop('SIGTERM', 10_000)).code).toBe(0);
      expect(await app.jobCount()).toBe(0);
      expect(await app.failedJobs()).toEqual([]);
    }, 30_000);
  });
}
