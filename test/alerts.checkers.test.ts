/**
 * Two checkers in one process, each with its own App (its own connections, as two processes
 * have), checking at the same moment round after round: every firing and every resolution is
 * queued once, on SQLite, PostgreSQL and Redis. Their reads interleave before either writes,
 * so without the version fence both would notify (the CLI test runs separate processes, whose
 * start-up often keeps them apart).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { App } from '../src/cli/app.js';
import { openAlerts } from '../src/alerts/open.js';
import { pingJob } from '../src/jobs/registry.js';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import { startWebhookDouble, type WebhookDouble } from './doubles/webhook/index.js';

const ROUNDS = 5;

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'two alert checkers at once', () => {
    let test: TestApp | undefined;
    let hook: WebhookDouble | undefined;
    const apps: App[] = [];
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((a) => a.close()));
      await test?.cleanup();
      await hook?.close();
    });

    it('queue each firing and each resolution once, round after round', async () => {
      hook = await startWebhookDouble();
      test = await createApp(
        backend,
        `import { defineConfig } from 'jobsmith';
import { queueSize } from 'jobsmith/alerts';
export default defineConfig({
  alerts: [{ name: 'backlog', when: queueSize('watched').above(0), notify: ['webhook:${hook.url}/a', 'webhook:${hook.url}/b'], cooldown: 0 }],
});
`,
      );
      const env = { ...test.env, LOG_LEVEL: 'silent' };
      writeFileSync(
        path.join(test.cwd, '.env'),
        Object.entries(env)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n'),
      );
      const [a, b] = [new App(test.cwd), new App(test.cwd)];
      apps.push(a, b);
      const [alertsA, alertsB] = await Promise.all([openAlerts(a), openAlerts(b)]);
      const driver = await a.queues().get();
      const events: string[] = [];
      const round = async () => {
        const both = await Promise.all([alertsA.check(), alertsB.check()]);
        const results = both.map((r) => r.results[0]!);
        for (const r of results) expect(r.error).toBeUndefined();
        events.push(
          results
            .map((r) => `${r.row.state}:${r.event ?? '-'}:${r.notified?.length ?? 0}`)
            .sort()
            .join(' '),
        );
      };
      for (let i = 0; i < ROUNDS; i++) {
        await a.dispatcher().dispatch(pingJob, {}, { queue: 'watched' });
        await round();
        await driver.clear('watched');
        await round();
      }
      // Each round: one checker made the change and queued two jobs; the other saw it done.
      expect(events).toEqual(
        Array.from({ length: ROUNDS }, () => [
          'firing:-:0 firing:fired:2',
          'ok:-:0 ok:resolved:2',
        ]).flat(),
      );
      const [sizes] = await driver.sizes(['default']);
      expect(sizes!.pending).toBe(ROUNDS * 2 * 2);
    }, 120_000);
  });
}
