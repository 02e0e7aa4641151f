import { afterEach, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';

/*
 * A worker killed with SIGKILL loses at most its unflushed seconds of metrics, and never
 * counts a job twice: the counts in job_metrics never exceed the jobs that really finished.
 * On every backend: the jobs live in SQL or in Redis, the metrics always in the SQL storage.
 */

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const slow = defineJob({
  name: 'stats.slow',
  queue: 'slow',
  tries: 1,
  async handle() { await new Promise((r) => setTimeout(r, 20)); },
});
export default defineConfig({ jobs: [slow] });
`;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function dispatch(name: string, n: number): Promise<void> {
  const result = await app!.run(['queue:dispatch', name], { input: '{}\n'.repeat(n) });
  expect(result.code, result.stderr).toBe(0);
}

async function processedInTable(): Promise<number> {
  const rows = await (await app!.db()).knex('job_metrics').sum({ n: 'processed' });
  return Number(rows[0]?.n ?? 0);
}

/** Jobs still in the queue (pending, delayed or held), whatever stores them. */
async function jobsLeft(): Promise<number> {
  const result = await app!.run(['queue:size', 'slow', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const [row] = JSON.parse(result.stdout) as Array<Record<string, number>>;
  return row!.pending! + row!.delayed! + row!.reserved!;
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'queue:work metrics and kill -9', () => {
    it('never counts more than the truth when the worker is killed (kill -9) between flushes', async () => {
      app = await createApp(backend, CONFIG);
      const total = 1000;
      await dispatch('stats.slow', total);
      const worker = app.spawn(['queue:work', '--queue', 'slow']);
      // The first flush comes about 5 s after the worker starts; the jobs take about 20 s.
      await waitFor(async () => (await processedInTable()) > 0, {
        timeoutMs: 25_000,
        intervalMs: 100,
        message: 'the worker never flushed its metrics',
      });
      const killed = await worker.stop('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');

      const left = await jobsLeft();
      const finished = total - left; // completed jobs are deleted; the killed one is still held
      const counted = await processedInTable();
      expect(left).toBeGreaterThan(0); // killed mid-run
      expect(counted).toBeGreaterThan(0);
      expect(counted).toBeLessThanOrEqual(finished);
    });
  });
}
