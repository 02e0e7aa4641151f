/**
 * Reliability: poison jobs (reliability.md §A6.7–8). An unknown job name, a payload that is
 * not JSON and one that fails the schema go straight to failed_jobs (reason poison, attempts 1)
 * while other jobs complete; after a deploy that registers the unknown name,
 * `run queue:retry all` brings it back.
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

export function poisonSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: poison jobs', () => {
    let app: TestApp;
    let good: string[];
    let poison: { unknown: string; notJson: string; badSchema: string };

    beforeEach(async () => {
      app = await createApp(kind);
      await migrate(app);
      good = await app.dispatch('sleep', [{ ms: 10 }, { ms: 10 }, { ms: 10 }]);
      poison = {
        unknown: await app.insertRaw('nope', '{}'),
        notJson: await app.insertRaw('strict', 'not json'),
        badSchema: await app.insertRaw('strict', '{"n":"seven"}'),
      };
      const w = app.worker(['--stop-when-empty', '--lease', '2s']);
      const result = await w.exited;
      expect(result.code, result.stderr).toBe(0);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('an unknown name and an invalid payload fail at once; other jobs complete', async () => {
      expect(await app.jobCount()).toBe(0);
      const failed = await app.failedJobs();
      const byOriginal = new Map(failed.map((r) => [String(r.original_id), r]));
      expect([...byOriginal.keys()].sort()).toEqual(Object.values(poison).sort());
      for (const row of failed) {
        expect(row.reason).toBe('poison');
        expect(Number(row.attempts)).toBe(1);
      }
      expect(String(byOriginal.get(poison.unknown)!.exception)).toContain(
        'Unknown job name "nope"',
      );
      expect(String(byOriginal.get(poison.notJson)!.exception)).toMatch(/not valid JSON/);
      expect(String(byOriginal.get(poison.badSchema)!.exception)).toMatch(/Invalid payload/);
      // The raw payload is kept for a later retry.
      expect(byOriginal.get(poison.notJson)!.payload).toBe('not json');

      // The handlers never ran for the poison jobs; each good job ran once.
      const done = completionsById(app.runs());
      expect([...done.keys()].sort()).toEqual([...good].sort());
      for (const id of good) expect(done.get(id)!.map((r) => r.attempt)).toEqual([1]);
      expect(app.runs().filter((r) => Object.values(poison).includes(r.id))).toEqual([]);
    });

    it('after a deploy that registers the name, queue:retry all completes the unknown job', async () => {
      app.writeConfig({ withNope: true });
      const retried = await app.run(['queue:retry', 'all']);
      expect(retried.code, retried.stderr).toBe(0);
      const w = app.worker(['--stop-when-empty', '--lease', '2s']);
      const result = await w.exited;
      expect(result.code, result.stderr).toBe(0);

      // `nope` now runs (attempts reset: attempt 1); the bad payloads fail again as poison.
      expect(w.eventsOf('job:processed').filter((e) => e.name === 'nope')).toMatchObject([
        { attempt: 1 },
      ]);
      expect(await app.jobCount()).toBe(0);
      const failed = await app.failedJobs();
      expect(failed.map((r) => r.name)).toEqual(['strict', 'strict']);
      for (const row of failed) expect(row.reason).toBe('poison');
    });
  });
}
