/**
 * Reliability: a job that kills its worker is the only one charged for it (issue 11, item 4),
 * with real `run queue:work` processes restarted the way supervisor restarts them. The jobs
 * that were running beside it come back from the lost lease, run alone, and finish on their
 * first attempt; the culprit spends its tries only on its own crashes and fails as max attempts
 * with the cause kept. Design: docs/reliability.md.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LEASE_LOST_ERROR } from '../../src/queue/driver.js';
import { waitFor } from '../helpers/wait.js';
import { createApp, describeBackend, migrate, type BackendKind, type TestApp } from './harness.js';

/** Worker runs at most: the first, then one per crash (at most three) and a few to spare. */
const MAX_RUNS = 8;

export function crashIsolationSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: a crash charges only the job that caused it', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
      await migrate(app);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    /**
     * Starts workers one after another, as supervisor would, until no job is left: each waits
     * first for the leases of the last one's jobs to run out.
     */
    async function runUntilDone(args: string[]): Promise<number[]> {
      const codes: number[] = [];
      for (let run = 0; run < MAX_RUNS && (await app.jobCount()) > 0; run++) {
        await waitFor(async () => (await app.jobRows()).every((j) => !j.live), {
          timeoutMs: 10_000,
          message: 'the leases of the last worker to run out',
        });
        const result = await app.worker(args, { timeoutMs: 30_000 }).exited;
        codes.push(result.code ?? -1);
      }
      return codes;
    }

    it('one job that exits its worker, nine running beside it (--concurrency 10): only the culprit ends in failed jobs', async () => {
      const sleepers = await app.dispatch(
        'sleep',
        Array.from({ length: 9 }, () => ({ ms: 400 })),
      );
      const [culprit] = await app.dispatch('crash', [{}]);
      const codes = await runUntilDone([
        '--concurrency',
        '10',
        '--tries',
        '2',
        '--lease',
        '1',
        '--sleep',
        '100ms',
        '--stop-when-empty',
      ]);
      expect(await app.jobCount()).toBe(0);
      // The first worker died with all ten in flight; a crash of the culprit alone ended others.
      expect(codes[0]).toBe(1);
      expect(codes.at(-1)).toBe(0);

      const failed = await app.failedJobs();
      expect(failed.map((f) => String(f.original_id))).toEqual([culprit]);
      expect(failed[0]).toMatchObject({ reason: 'max_attempts' });
      expect(String(failed[0]!.exception)).toContain(LEASE_LOST_ERROR);

      // Every sleeper finished, on its first attempt: the crashes cost them nothing.
      const done = app.runs().filter((r) => r.event === 'done');
      expect(done.map((r) => r.id).sort()).toEqual([...sleepers].sort());
      expect(done.every((r) => r.attempt === 1)).toBe(true);

      // The culprit ran once in the crowd (not charged), then alone, once per try.
      const culpritRuns = app.runs().filter((r) => r.event === 'start' && r.id === culprit);
      expect(culpritRuns.map((r) => r.attempt)).toEqual([1, 1, 2]);
    });

    it('jobs held by a worker that died run one at a time, never beside another job', async () => {
      await app.dispatch(
        'sleep',
        Array.from({ length: 4 }, () => ({ ms: 150 })),
      );
      await app.dispatch('crash', [{}]);
      await runUntilDone([
        '--concurrency',
        '5',
        '--tries',
        '1',
        '--lease',
        '1',
        '--sleep',
        '100ms',
        '--stop-when-empty',
      ]);
      expect(await app.jobCount()).toBe(0);
      // After the first worker, starts and ends alternate: one job at a time per process.
      const later = app.runs().filter((r) => r.event !== 'aborted');
      const firstPid = later[0]!.pid;
      const byPid = new Map<number, string[]>();
      for (const r of later.filter((r) => r.pid !== firstPid)) {
        byPid.set(r.pid, [...(byPid.get(r.pid) ?? []), r.event]);
      }
      for (const events of byPid.values()) {
        const pairs = events
          .join(' ')
          .replace(/start done ?/g, '')
          .replace(/start$/, '')
          .trim();
        expect(pairs).toBe('');
      }
    });
  });
}
