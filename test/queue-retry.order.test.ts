/**
 * `run queue:retry` puts a failed job at the end of its queue's waiting line, as a new dispatch
 * goes, on every backend: on SQL storage it was stored with ready_at 0 and so went ahead of every
 * job that had been waiting (and a delayed-page walk of the dashboard, which relies on ready_at
 * following available_at, would have misplaced it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeApp, type Backend } from './queue-commands.fixture.js';

const BACKENDS: Backend[] = ['sqlite', 'pgsql', 'redis'];

for (const backend of BACKENDS) {
  describeApp(backend, 'queue:retry and the waiting line', (app) => {
    it('puts a retried job behind the jobs already waiting', async () => {
      await app().dispatch('flaky.job', [1], ['--queue', 'ro']);
      await app().work('ro');
      expect((await app().failed('ro')).map((f) => f.payload)).toEqual(['{"n":1}']);

      writeFileSync(path.join(app().cwd, 'fixed'), '');
      await app().dispatch('flaky.job', [2, 3], ['--queue', 'ro']);
      expect(await app().ok(['queue:retry', 'all'])).toMatch(/\nRetried 1 failed job\.\n$/);
      // queue:list shows the waiting line in the order the jobs will run.
      const listed = await app().json<Array<{ payload: string }>>(['queue:list', 'ro']);
      expect(listed.map((r) => r.payload)).toEqual(['{"n":2}', '{"n":3}', '{"n":1}']);
    }, 90_000);
  });
}
