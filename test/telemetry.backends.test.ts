/**
 * Telemetry on, end to end, on each backend: a real `run queue:work` and a real `run
 * metrics:serve` serve /metrics on spare ports, and what a Prometheus text parser reads there
 * equals what happened: 50 jobs succeed, 10 fail, 5 wait delayed.
 */
import { afterEach, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { scrape, scrapeUntil } from './helpers/prometheus.js';
import { sparePort } from './helpers/spare-port.js';

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const maybe = defineJob({
  name: 'telemetry.maybe',
  tries: 1,
  async handle(p) { if (p.fail) throw new Error('planned failure'); },
});
const later = defineJob({ name: 'telemetry.later', queue: 'later', handle() {} });
export default defineConfig({ jobs: [maybe, later], queues: { quiet: {} } });
`;

const ON = { TELEMETRY_ENABLED: 'true' };

let app: TestApp | undefined;
const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM', 5000)));
  await app?.cleanup();
  app = undefined;
});

/** Starts `args` and waits for the URL it says it serves /metrics at. */
async function serving(args: string[]): Promise<{ proc: CliProcess; url: string }> {
  const proc = app!.spawn(args, { env: ON, timeoutMs: 90_000 });
  running.push(proc);
  const [, url] = await proc.waitForOutput(/(http:\/\/127\.0\.0\.1:\d+\/metrics)/, 30_000);
  return { proc, url: url! };
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'telemetry: /metrics counts what happened', () => {
    it('queue:work counts 50 succeeded and 10 failed jobs; metrics:serve shows the queues before and after', async () => {
      app = await createApp(backend, CONFIG);
      const lines = `${'{}\n'.repeat(50)}${'{"fail":true}\n'.repeat(10)}`;
      const pushed = await app.run(['queue:dispatch', 'telemetry.maybe'], { input: lines });
      expect(pushed.code, pushed.stderr).toBe(0);
      const delayed = await app.run(['queue:dispatch', 'telemetry.later', '--delay', '1h'], {
        input: '{}\n'.repeat(5),
      });
      expect(delayed.code, delayed.stderr).toBe(0);

      const exporter = await serving([
        'metrics:serve',
        '--port',
        String(await sparePort()),
        '--refresh',
        '200ms',
      ]);
      expect(exporter.proc.stdout).toMatch(
        /Serving queue metrics at http:\/\/127\.0\.0\.1:\d+\/metrics \(read every 0\.2s\)/,
      );
      const before = await scrape(exporter.url);
      expect(before.value('jobsmith_queue_size', { queue: 'default', state: 'pending' })).toBe(60);
      expect(before.value('jobsmith_queue_size', { queue: 'later', state: 'delayed' })).toBe(5);
      expect(before.value('jobsmith_queue_size', { queue: 'later', state: 'pending' })).toBe(0);
      // A configured queue shows, at 0, before it ever held a job.
      expect(before.value('jobsmith_queue_size', { queue: 'quiet', state: 'pending' })).toBe(0);
      expect(before.sum('jobsmith_failed_jobs')).toBe(0);
      expect(before.value('jobsmith_process_info', { command: 'metrics:serve' })).toBe(1);

      const worker = await serving([
        'queue:work',
        '--queue',
        'default',
        '--concurrency',
        '4',
        '--sleep',
        '200ms',
        '--metrics-port',
        String(await sparePort()),
      ]);
      const done = await scrapeUntil(
        worker.url,
        (s) => s.sum('jobsmith_jobs_processed_total') === 60,
        { timeoutMs: 60_000, message: 'the worker counts 60 jobs' },
      );
      const job = { queue: 'default', job: 'telemetry.maybe' };
      expect(done.value('jobsmith_jobs_processed_total', { ...job, outcome: 'succeeded' })).toBe(
        50,
      );
      expect(done.value('jobsmith_jobs_processed_total', { ...job, outcome: 'failed' })).toBe(10);
      // Every one of the 60 ran its handler once, and waited once.
      expect(done.count('jobsmith_job_duration_seconds', job)).toBe(60);
      expect(done.count('jobsmith_job_wait_seconds', { queue: 'default' })).toBe(60);
      const [duration] = done.histograms('jobsmith_job_duration_seconds', job);
      expect([...duration!.buckets.keys()].slice(-3)).toEqual(['60', '120', '+Inf']);
      expect(duration!.buckets.get('120')).toBe(60);
      expect(done.value('jobsmith_process_info', { command: 'queue:work' })).toBe(1);
      // prom-client's process metrics come with it.
      expect(done.value('process_resident_memory_bytes')).toBeGreaterThan(0);

      const after = await scrapeUntil(
        exporter.url,
        (s) => s.value('jobsmith_failed_jobs', { queue: 'default' }) === 10,
        { timeoutMs: 20_000, message: 'metrics:serve shows the 10 failed jobs' },
      );
      expect(after.value('jobsmith_queue_size', { queue: 'default', state: 'pending' })).toBe(0);
      expect(after.value('jobsmith_queue_size', { queue: 'default', state: 'reserved' })).toBe(0);
      expect(after.value('jobsmith_queue_size', { queue: 'later', state: 'delayed' })).toBe(5);
      expect(after.value('jobsmith_metrics_refresh_failures_total')).toBe(0);
      expect(after.value('jobsmith_metrics_refreshed_timestamp_seconds')).toBeGreaterThan(
        before.value('jobsmith_metrics_refreshed_timestamp_seconds')!,
      );

      // Nothing more is counted once the queue is empty: the counts are exact, not at least.
      await new Promise((r) => setTimeout(r, 500));
      expect((await scrape(worker.url)).sum('jobsmith_jobs_processed_total')).toBe(60);
      const stopped = await worker.proc.stop('SIGTERM', 10_000);
      expect(stopped.code, stopped.stderr).toBe(0);
      const stoppedExporter = await exporter.proc.stop('SIGTERM', 10_000);
      expect(stoppedExporter.code, stoppedExporter.stderr).toBe(0);
      expect(stoppedExporter.stdout).toContain('Stopped.');
    }, 120_000);
  });
}
