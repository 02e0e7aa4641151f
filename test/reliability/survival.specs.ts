/**
 * Reliability: the worker survives its storage and its handlers (issue 11, item 5), with real
 * `run queue:work` processes: a job released and claimed again at once does not starve the
 * process (signals, memory); a job's code that fails outside its promise does not take the
 * other jobs down with it; an outcome the storage refuses ends the worker with exit 14 and the
 * job's real error, never a clean stop; --stop-when-empty on a paused queue says so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { createApp, describeBackend, migrate, type BackendKind, type TestApp } from './harness.js';

/** The resident memory of a process now, in MB (Linux /proc). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/** How far the worker's memory may grow while the spin job runs `SPINS` more times, MB. */
const GROWTH_BOUND_MB = 64;

/**
 * Runs of the spin job before the first measure, and between the two. The starving loop is
 * SQLite's (a synchronous driver); on the others each run is a round trip, far slower, and
 * fewer runs show the same.
 */
const SPINS: Record<BackendKind, { warm: number; measured: number }> = {
  sqlite: { warm: 1000, measured: 5000 },
  pgsql: { warm: 200, measured: 1000 },
  redis: { warm: 200, measured: 1000 },
};

export function survivalSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: the worker survives its storage and its handlers', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    /** Runs of the spin job so far, from its every-100th record. */
    const spins = () =>
      Math.max(
        0,
        ...app
          .runs()
          .filter((r) => r.event === 'spin')
          .map((r) => r.attempt),
      );

    it('a job released and claimed again at once: the worker stops on SIGTERM and its memory stays bounded', async () => {
      await app.dispatch('spin', [{}]);
      const w = app.worker(['--concurrency', '1', '--sleep', '200ms', '--lease', '5s'], {
        timeoutMs: 90_000,
      });
      const { warm, measured } = SPINS[kind];
      await waitFor(() => spins() >= warm, {
        timeoutMs: 30_000,
        message: `the first ${warm} runs`,
      });
      const baseline = rssMb(w.child.pid!);
      await waitFor(() => spins() >= warm + measured, {
        timeoutMs: 60_000,
        message: `${measured} more runs`,
      });
      const grown = rssMb(w.child.pid!) - baseline;
      // A worker that starves its event loop queues its output (and more) for ever.
      expect(grown, `RSS grew ${grown.toFixed(1)} MB over ${measured} runs`).toBeLessThan(
        GROWTH_BOUND_MB,
      );

      w.child.kill('SIGTERM');
      const result = await w.exited;
      expect(result.timedOut, 'the worker ignored SIGTERM').toBe(false);
      expect(result.code, result.stderr).toBe(0);
      expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'signal', exitCode: 0 });
      // Back in the queue, never held past the stop, no attempt spent.
      const rows = await app.jobRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempts: 0, held: false });
      console.info(
        `[reliability ${kind}] RetryAfter(0) loop: ${spins()} runs; RSS +${grown.toFixed(1)} MB over ${measured} runs`,
      );
    }, 120_000);

    it("an exception thrown from a job's timer fails that job's attempt; the other jobs finish; exit 15 without a raw stack", async () => {
      const [culprit] = await app.dispatch('stray', [{ fault: 'exception', ms: 2000 }]);
      const others = await app.dispatch('sleep', [{ ms: 1000 }, { ms: 1000 }]);
      const w = app.worker(['--concurrency', '3', '--lease', '30s', '--grace', '10s']);
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(15);
      expect(result.stderr).toBe('');
      const [stopping] = w.eventsOf('worker:stopping');
      expect(stopping).toMatchObject({
        reason: 'uncaught',
        error: `Job #${culprit} (stray) threw an exception outside its promise: thrown from a timer`,
        hint: 'The worker stopped claiming and let its other jobs finish (exit 15). Catch errors inside timers and event handlers, or await the promises a handler starts.',
      });
      // The culprit's attempt failed with the real error (tries 2: put back for the next worker).
      expect(w.eventsOf('job:released', culprit)).toMatchObject([
        { attempt: 1, error: 'thrown from a timer' },
      ]);
      // The others were not aborted: they finished within --grace.
      expect(
        w
          .eventsOf('job:processed')
          .map((e) => e.id)
          .sort(),
      ).toEqual([...others].sort());
      expect(w.eventsOf('job:abandoned')).toEqual([]);
      expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'uncaught', exitCode: 15 });
      // Nothing left held until a lease ends.
      expect(await app.liveReserved()).toBe(0);
      const rows = await app.jobRows();
      expect(rows.map((r) => [r.id, r.attempts])).toEqual([[culprit, 1]]);
    }, 30_000);

    it('a rejection a job leaves unhandled is reported; the worker goes on and stops with 0', async () => {
      const [stray] = await app.dispatch('stray', [{ fault: 'rejection', ms: 50 }]);
      const [after] = await app.dispatch('sleep', [{ ms: 10 }]);
      const w = app.worker(['--stop-when-empty', '--lease', '30s']);
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(0);
      expect(w.eventsOf('worker:error')).toMatchObject([
        {
          during: expect.stringMatching(
            new RegExp(
              `^job #${stray} \\(stray\\)(, which had finished)?, a promise rejection nobody handled$`,
            ),
          ),
          error: 'a rejection nobody handles',
        },
      ]);
      expect(
        w
          .eventsOf('job:processed')
          .map((e) => e.id)
          .sort(),
      ).toEqual([stray, after].sort());
      expect(await app.jobCount()).toBe(0);
    }, 30_000);

    it('an outcome the storage refuses: exit 14 with the real error, never a clean stop; the job stays held', async () => {
      await migrate(app);
      const barrier = path.join(app.dir, 'open');
      const [id] = await app.dispatch('gate', [{ file: barrier, fail: true }]);
      const w = app.worker(['--stop-when-empty', '--lease', '30s']);
      await waitFor(() => app.runs().some((r) => r.event === 'start' && r.id === id), {
        timeoutMs: 15_000,
        message: 'waiting for the job to start',
      });
      // The job's failure will have nowhere to go, and waiting will not bring the table back.
      await app.backend.query('drop table failed_jobs');
      writeFileSync(barrier, '');
      const result = await w.exited;

      expect(result.code, result.stderr).toBe(14);
      const [stopping] = w.eventsOf('worker:stopping');
      expect(stopping?.reason).toBe('storage');
      expect(stopping?.error).toMatch(
        new RegExp(`[Rr]ecording the failure of job #${id} \\(gate\\)`),
      );
      expect(stopping?.error).toContain(`The job's own error: "the gate failed on purpose".`);
      expect(w.eventsOf('job:failed')).toEqual([]);
      expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'storage', exitCode: 14 });
      const rows = await app.jobRows();
      expect(rows).toMatchObject([{ id, attempts: 1, held: true }]);
    }, 30_000);

    it('--stop-when-empty on a paused queue says it is paused and how many jobs wait', async () => {
      await migrate(app);
      await app.dispatch('sleep', [{ ms: 10 }, { ms: 10 }]);
      const paused = await app.run(['queue:pause', 'default']);
      expect(paused.code, paused.stderr).toBe(0);

      const result = await app.run(['queue:work', '--stop-when-empty']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(
        'Worker stopped (paused) after 0 job(s): 2 job(s) wait on paused queue(s) default (run queue:resume default to let them run).\n',
      );
      expect(app.runs()).toEqual([]);
      expect(await app.jobCount()).toBe(2);
    }, 30_000);
  });
}
