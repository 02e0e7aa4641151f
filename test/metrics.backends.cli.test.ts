import { afterEach, expect, it } from 'vitest';
import { createApp, describeBackend, type AppBackend, type TestApp } from './helpers/app.js';

/*
 * On PostgreSQL and Redis too, a worker's counts reach job_metrics in the SQL storage and
 * `queue:stats` reads them (SQLite: test/metrics.cli.test.ts).
 */

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const maybe = defineJob({
  name: 'stats.maybe',
  tries: 2,
  backoff: 0,
  async handle(p) { if (p.fail) throw new Error('always fails'); },
});
export default defineConfig({ jobs: [maybe] });
`;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

for (const backend of ['pgsql', 'redis'] as AppBackend[]) {
  describeBackend(backend, 'queue:work metrics and queue:stats', () => {
    it('counts what the worker did, exactly', async () => {
      app = await createApp(backend, CONFIG);
      // 8 that succeed, 4 that fail both tries, in one dispatch.
      const lines = ['{}', '{}', '{"fail":true}'].join('\n').concat('\n').repeat(4);
      const pushed = await app.run(['queue:dispatch', 'stats.maybe'], { input: lines });
      expect(pushed.code, pushed.stderr).toBe(0);
      const work = await app.run(['queue:work', '--concurrency', '4', '--stop-when-empty']);
      expect(work.code, work.stderr).toBe(0);
      const stats = await app.run(['queue:stats', '--json']);
      expect(stats.code, stats.stderr).toBe(0);
      const rows = (JSON.parse(stats.stdout) as { rows: Array<Record<string, unknown>> }).rows;
      expect(rows.map((r) => [r.queue, r.processed, r.succeeded, r.failed, r.retried])).toEqual([
        ['default', 12, 8, 4, 4],
      ]);
    });
  });
}
