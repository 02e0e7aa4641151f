/**
 * What each condition reads, from the storage that holds it on every backend: queue sizes from
 * the queue driver, failures, rates and waits from job_metrics (rows written by the metrics
 * store, as workers write them), breaker states from the driver's flow store, live workers
 * from the workers registry.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { App } from '../src/cli/app.js';
import { openAlerts } from '../src/alerts/open.js';
import { pingJob } from '../src/jobs/registry.js';
import { emptyDelta, type MetricsDelta } from '../src/metrics/delta.js';
import { addMetrics } from '../src/metrics/store.js';
import { insertWorker } from '../src/workers/store.js';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';

const CONFIG = `import { defineConfig } from 'jobsmith';
import { queueSize, failureRate, failures, sendFailures, waitTime, breakerOpen, noWorker } from 'jobsmith/alerts';
const notify = ['webhook:http://127.0.0.1:9/hook'];
export default defineConfig({
  alerts: [
    { name: 'watched', when: queueSize('watched').above(1), notify },
    { name: 'gpt-rate', when: failureRate('gpt').above(0.2).over('10m'), notify },
    { name: 'gpt-rate-few', when: failureRate({ job: 'gpt.complete' }, { minAttempts: 20 }).above(0.2), notify },
    { name: 'errors', when: failures().above(5).over('5m'), notify },
    { name: 'sends', when: sendFailures().above(3), notify },
    { name: 'slow', when: waitTime('default').above('60s'), notify },
    { name: 'mail-slow', when: waitTime('mail').above('60s'), notify },
    { name: 'openai', when: breakerOpen('openai'), notify },
    { name: 'mailers', when: noWorker('mail'), notify },
    { name: 'reporters', when: noWorker('reports'), notify },
  ],
});
`;

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

function delta(minute: number, queue: string, name: string, counts: Partial<MetricsDelta>) {
  return { ...emptyDelta(minute, queue, name), ...counts };
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'alert conditions', () => {
    let test: TestApp | undefined;
    let app: App | undefined;
    afterEach(async () => {
      await app?.close();
      await test?.cleanup();
    });

    it('read each source as it stands now, within their windows', async () => {
      test = await createApp(backend, CONFIG);
      writeFileSync(
        path.join(test.cwd, '.env'),
        Object.entries({ ...test.env, LOG_LEVEL: 'silent' })
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n'),
      );
      app = new App(test.cwd);
      const alerts = await openAlerts(app);
      const { knex } = await app.db();
      const driver = await app.queues().get();

      await app.dispatcher().dispatchMany([
        { job: pingJob, payload: {}, options: { queue: 'watched' } },
        { job: pingJob, payload: {}, options: { queue: 'watched' } },
      ]);
      const now = minuteOf(Date.now());
      await addMetrics(knex, [
        // 3 failed attempts of 9: a third.
        delta(now, 'gpt', 'gpt.complete', { processed: 7, succeeded: 6, failed: 1, retried: 2 }),
        // Outside every window: not counted.
        delta(now - 20 * 60_000, 'gpt', 'gpt.complete', { processed: 100, failed: 100 }),
        delta(now - 60_000, 'telegram', 'telegram.send', {
          processed: 9,
          succeeded: 8,
          failed: 1,
          retried: 3,
        }),
        delta(now, 'default', 'digest.send', {
          processed: 3,
          succeeded: 3,
          waitSumMs: 270_000,
          waitCount: 3,
        }),
      ]);
      await driver.flow().breakers.record(
        {
          name: 'openai',
          failures: 1,
          windowMs: 60_000,
          cooldownMs: 60_000,
          probeLeaseMs: 30_000,
        },
        'failure',
      );
      await insertWorker(knex, {
        id: '00000000-0000-4000-8000-000000000001',
        name: 'mailer',
        host: 'test',
        pid: 1,
        connection: 'database',
        queues: ['mail', 'default'],
        concurrency: 1,
        processed: 0,
        failed: 0,
        running: 0,
        currentJobs: [],
      });

      const { results } = await alerts.check();
      expect(
        Object.fromEntries(
          results.map((r) => [
            r.alert.name,
            [r.reading?.holds, r.reading?.value, r.error?.message],
          ]),
        ),
      ).toEqual({
        watched: [true, 2, undefined],
        'gpt-rate': [true, 3 / 9, undefined],
        'gpt-rate-few': [false, 3 / 9, undefined],
        errors: [true, 7, undefined],
        sends: [true, 4, undefined],
        slow: [true, 90_000, undefined],
        'mail-slow': [false, null, undefined],
        openai: [true, 1, undefined],
        mailers: [false, 1, undefined],
        reporters: [true, 0, undefined],
      });
    }, 60_000);
  });
}
