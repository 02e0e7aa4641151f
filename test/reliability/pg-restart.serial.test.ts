/**
 * Reliability: PostgreSQL restarted while workers run (reliability.md §A6.10, issue 3 item 9).
 * Workers ride out the outage, reconnect and finish; nothing is lost. Delivery is at least
 * once, so a job whose completion was cut off by the restart may run again: every job must
 * complete at least once, and the duplicates are reported.
 *
 * This file restarts the shared server, so it must run alone: vitest.config.ts excludes
 * `*.serial.test.ts` and `npm test` runs it afterwards, alone (the `serial` project in vitest.config.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePg, pgAdminUrl } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { completionsById, createApp, migrate, waitForEmptyQueue, type TestApp } from './harness.js';

const run = promisify(execFile);
const JOBS = 200;

/** The local cluster's version (PG_CLUSTER_VERSION, else the only one in /etc/postgresql). */
function clusterVersion(): string | undefined {
  if (process.env.PG_CLUSTER_VERSION) return process.env.PG_CLUSTER_VERSION;
  if (!existsSync('/etc/postgresql')) return undefined;
  return readdirSync('/etc/postgresql').sort().at(-1);
}

function pgctl(action: 'restart' | 'start', version: string) {
  return run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], {
    timeout: 60_000,
  });
}

async function pgReady(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgAdminUrl(), connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Bounded: waits up to 60 s for the server, starting it once if it stays down. */
async function ensurePgUp(version: string): Promise<void> {
  const ready = () => waitFor(pgReady, { timeoutMs: 20_000, intervalMs: 250 }).catch(() => false);
  if (await ready()) return;
  await pgctl('start', version).catch(() => {});
  await waitFor(pgReady, {
    timeoutMs: 40_000,
    intervalMs: 250,
    message: 'PostgreSQL to come back',
  });
}

const version = clusterVersion();

describePg('reliability: PostgreSQL restart (serial)', () => {
  let app: TestApp | undefined;

  beforeAll(async () => {
    app = await createApp('pgsql');
  });
  afterAll(async () => {
    // Whatever happened, leave the server up for whoever runs next.
    if (version) await ensurePgUp(version);
    await app?.cleanup();
  }, 90_000);

  it.skipIf(!version)(
    'workers reconnect after a restart and finish; every job completes',
    async () => {
      const a = app!;
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
      await pgctl('restart', version!);
      const backAt = Date.now();
      await waitFor(pgReady, { timeoutMs: 30_000, intervalMs: 250 });

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
        `[reliability pgsql] restart took ${backAt - restartAt} ms; all ${JOBS} jobs done ` +
          `${finishedAt - backAt} ms after it; ${totalDone - JOBS} duplicate run(s) ` +
          `(${duplicated} job(s) ran twice); ${errors.length} worker:error event(s) ` +
          `(${[...new Set(errors.map((e) => e.during))].join(', ')})`,
      );
    },
    120_000,
  );
});
