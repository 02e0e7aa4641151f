/**
 * Reliability: PostgreSQL restarted while workers run (reliability.md §A6.10; issue 3 item 9,
 * issue 11 items 5 and 9). Workers ride out the outage, reconnect and finish; nothing is lost.
 *
 * The server restarted is a cluster of this file's own (test/helpers/pg-cluster.ts: initdb into
 * a temporary folder, a spare port), never the shared one other tests use. Under CI=true the
 * file must run: a machine without initdb/pg_ctl fails it. Locally it is skipped, with a notice.
 * It stays in the `serial` project: a restart is slow and timing-sensitive, best not squeezed
 * between other files on two cores.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgCluster, requirePgTools } from '../helpers/pg-cluster.js';
import { waitFor } from '../helpers/wait.js';
import { completionsById, createApp, migrate, waitForEmptyQueue, type TestApp } from './harness.js';

const tools = requirePgTools('The PostgreSQL restart test');

describe.skipIf(!tools)('reliability: PostgreSQL restart (serial)', () => {
  let cluster: PgCluster | undefined;
  let app: TestApp | undefined;

  beforeAll(async () => {
    cluster = await PgCluster.create(tools!);
  }, 90_000);
  afterEach(async () => {
    // Whatever happened, the server must be up for the app's cleanup (it drops the database).
    if (cluster && !(await cluster.ready())) await cluster.start().catch(() => {});
    await app?.cleanup();
    app = undefined;
  }, 60_000);
  afterAll(async () => {
    await cluster?.remove();
  }, 60_000);

  it('workers reconnect after a restart and finish; every job completes', async () => {
    const JOBS = 200;
    app = await createApp('pgsql', { pgAdminUrl: cluster!.url() });
    const a = app;
    await migrate(a);
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
    await cluster!.stop();
    await cluster!.start();
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
      const after = w.eventsOf('job:processed').filter((e) => Date.parse(String(e.time)) > backAt);
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
      `[reliability pgsql] restart took ${backAt - restartAt} ms; all ${JOBS} jobs done ` +
        `${finishedAt - backAt} ms after it; ${totalDone - JOBS} duplicate run(s) ` +
        `(${duplicated} job(s) ran twice); ${errors.length} worker:error event(s)`,
    );
  });

  /*
   * The bound asserted: no job runs twice. Each of the 20 jobs was claimed before the server
   * went down and its handler finished while the server was down, so each completion failed on
   * a dropped connection. The worker retries a completion with backoff while the job's lease
   * holds (10 s here, against an outage of well under that), so each is written once the
   * server is back, and no job comes back through its lease to run again. A fast shutdown (an
   * operator's restart) writes a checkpoint first, so no commit the worker saw acknowledged is
   * forgotten, even with synchronous_commit off. Before the retry, all 20 ran again.
   */
  it('a 0.2 s restart with 20 completions due: each is retried across the reconnect, no job runs twice', async () => {
    const JOBS = 20;
    app = await createApp('pgsql', { pgAdminUrl: cluster!.url() });
    const a = app;
    await migrate(a);
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

    await cluster!.stop();
    const downAt = Date.now();
    // Every handler finishes while the server is down: its completion has nowhere to go.
    writeFileSync(barrier, '');
    await waitFor(() => a.runs().filter((r) => r.event === 'done').length === JOBS, {
      timeoutMs: 10_000,
      message: `waiting for the ${JOBS} handlers to finish`,
    });
    // Down for 0.2 s more with every completion due, then back.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster!.start();
    const backAt = Date.now();

    await waitForEmptyQueue(a, 30_000);
    await w.waitForEvents((e) => e.event === 'job:processed', JOBS, 10_000);
    expect(w.child.exitCode, `the worker exited:\n${w.output.slice(-3000)}`).toBeNull();

    // Each job started once and finished once, on its first attempt: none ran again.
    const runs = a.runs();
    for (const id of ids) {
      expect(
        runs.filter((r) => r.id === id).map((r) => `${r.event} ${r.attempt}`),
        `job ${id}`,
      ).toEqual(['start 1', 'done 1']);
    }
    expect([...completionsById(runs).keys()].sort()).toEqual([...ids].sort());
    expect(await a.failedJobs()).toEqual([]);
    expect(w.eventsOf('job:lost')).toEqual([]);
    // The completions did fail while the server was down (the retry was exercised).
    const settleErrors = w
      .eventsOf('worker:error')
      .filter((e) => String(e.during).startsWith('recording the completion of job #'));
    expect(settleErrors.length).toBeGreaterThan(0);

    const result = await w.stop('SIGTERM', 15_000);
    expect(result.code, result.stderr).toBe(0);
    console.info(
      `[reliability pgsql] down ${backAt - downAt} ms with ${JOBS} completions due; ` +
        `${settleErrors.length} completion(s) retried; no job ran twice`,
    );
  });

  it('the server down for longer than --storage-timeout: the idle worker exits 14, naming the server', async () => {
    app = await createApp('pgsql', { pgAdminUrl: cluster!.url() });
    const a = app;
    await migrate(a);
    const w = a.worker(['--storage-timeout', '2s', '--sleep', '200ms'], { timeoutMs: 60_000 });
    await w.waitForEvents((e) => e.event === 'worker:started', 1, 20_000);
    await cluster!.stop();
    const downAt = Date.now();
    const result = await w.exited;
    const tookMs = Date.now() - downAt;

    expect(result.code, `${result.stderr}\n${w.output.slice(-4000)}`).toBe(14);
    const [stopping] = w.eventsOf('worker:stopping');
    expect(stopping?.reason).toBe('storage');
    expect(String(stopping?.error)).toMatch(
      new RegExp(
        `^PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${cluster!.port}/jobsmith_test_[0-9a-f]+ ` +
          'has been failing for \\d[^ ]* \\(--storage-timeout 2\\.00s\\); the last error: ',
      ),
    );
    expect(stopping?.hint).toBe(
      'Check DATABASE_URL and that the server is running. The process exits 14 so that its process manager starts it again.',
    );
    // Not at the first failure, not long after the timeout (slack for a loaded machine).
    expect(tookMs).toBeGreaterThanOrEqual(2_000);
    expect(tookMs).toBeLessThan(15_000);
    expect(w.eventsOf('worker:stopped')[0]).toMatchObject({ reason: 'storage', exitCode: 14 });
  });
});
