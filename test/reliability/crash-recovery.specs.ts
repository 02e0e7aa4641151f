/**
 * Reliability: crash recovery is as fast as the lease (issue 11 items 4 and 5). The issue's
 * input, as an operator's shell loop runs it: a job (tries 2) whose handler exits its worker,
 * and `run queue:work --stop-when-empty --lease 1` started four times in a row, 1.2 s apart.
 * Each start finds the job its predecessor's lease left behind: the job ends in failed jobs
 * (max attempts) and keeps the cause, the lost lease.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, describeBackend, migrate, type BackendKind, type TestApp } from './harness.js';

/** The pause between two starts in the loop: just past the 1 s lease. */
const APART_MS = 1_200;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function crashRecoverySpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: crash recovery as fast as the lease', () => {
    let app: TestApp;

    beforeEach(async () => {
      app = await createApp(kind);
      await migrate(app);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('a job (tries 2) that exits its worker is in failed jobs, with its cause, after four starts 1.2 s apart', async () => {
      const dispatched = await app.run([
        'queue:dispatch',
        'crash',
        '--payload',
        '{}',
        '--tries',
        '2',
        '--json',
      ]);
      expect(dispatched.code, dispatched.stderr).toBe(0);
      const [{ id }] = JSON.parse(dispatched.stdout) as Array<{ id: string }>;

      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        if (i > 0) await pause(APART_MS);
        // Bounded: spawnCli kills a worker still running at its timeout.
        const w = app.worker(['--stop-when-empty', '--lease', '1'], { timeoutMs: 20_000 });
        const result = await w.exited;
        codes.push(result.code ?? -1);
      }

      // Three starts ran the handler and died with it; the fourth found the job out of tries.
      expect(codes).toEqual([1, 1, 1, 0]);
      const starts = app.runs().filter((r) => r.id === id && r.event === 'start');
      expect(starts).toHaveLength(3);
      const rows = await app.failedJobs();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ name: 'crash', reason: 'max_attempts', original_id: id });
      expect(String(rows[0]!.exception)).toContain('max attempts exceeded');
      expect(String(rows[0]!.exception)).toContain('its lease ran out');
      expect(await app.jobCount()).toBe(0);
    }, 90_000);
  });
}
