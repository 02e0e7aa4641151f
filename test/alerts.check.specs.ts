/**
 * Alerts end to end on one backend: `run alerts:check` processes (three at once, then a
 * fresh one, as after a restart) over a queue that grows past the threshold and empties again; the
 * firing and the resolved notification are each queued once, and a real worker delivers them
 * to the fake Bot API, the SMTP server and the webhook receiver. Called by
 * alerts.check.<backend>.test.ts.
 */
import { afterEach, expect, it } from 'vitest';
import { describeBackend, type AppBackend } from './helpers/app.js';
import { CHAT, createAlertsApp, HOOK_PATH, type AlertsApp } from './alerts.fixture.js';

const SLOW = 120_000;

export function alertCheckSpecs(backend: AppBackend): void {
  describeBackend(backend, 'alerts:check', () => {
    let t: AlertsApp | undefined;
    afterEach(async () => {
      await t?.cleanup();
      t = undefined;
    });

    it(
      'fires and resolves exactly once across two checkers and a restart; every receiver gets both',
      async () => {
        // Webhooks on a queue of their own (the alert's `queue`), the others on their integrations'.
        t = await createAlertsApp(backend, "queueSize('watched').above(2)", "queue: 'ops',");
        expect((await t.check()).alert).toMatchObject({ state: 'ok', value: 0, event: null });

        await t.fill('watched', 3);
        // Three checkers at once (cron on three hosts): one fires it and notifies.
        const fired = await Promise.all([t.check(), t.check(), t.check()]);
        expect(fired.map((f) => [f.code, f.alert.state])).toEqual([
          [1, 'firing'],
          [1, 'firing'],
          [1, 'firing'],
        ]);
        const winners = fired.filter((f) => f.alert.event === 'fired');
        expect(winners).toHaveLength(1);
        for (const f of fired.filter((f) => f.alert.event !== 'fired'))
          expect(f.alert.notified).toEqual([]);
        const hook = `webhook:${t.hook.url}/…`;
        expect(winners[0]!.alert.notified.map((n) => [n.target, n.job, n.queue])).toEqual([
          [`telegram:${CHAT}`, 'telegram.send', 'telegram'],
          ['mail:ops@example.com', 'mail.send', 'mail'],
          [hook, 'webhook.post', 'ops'],
        ]);

        // A new process (a restart) finds it firing and notifies nothing.
        expect(await t.check()).toMatchObject({
          code: 1,
          alert: { state: 'firing', value: 3, event: null, notified: [] },
        });
        expect(await t.sizes()).toMatchObject({ telegram: 1, mail: 1, ops: 1, watched: 3 });

        const cleared = await t.app.run(['queue:clear', '--queue', 'watched', '--force'], {
          env: t.env,
        });
        expect(cleared.code).toBe(0);
        const resolved = await Promise.all([t.check(), t.check(), t.check()]);
        expect(resolved.map((r) => [r.code, r.alert.state])).toEqual([
          [0, 'ok'],
          [0, 'ok'],
          [0, 'ok'],
        ]);
        expect(resolved.filter((r) => r.alert.event === 'resolved')).toHaveLength(1);
        expect(await t.check()).toMatchObject({ code: 0, alert: { state: 'ok', event: null } });
        expect(await t.sizes()).toMatchObject({ telegram: 2, mail: 2, ops: 2 });

        await t.deliver(2);
        const got = t.received();
        expect(got.telegram).toHaveLength(2);
        expect(got.telegram[0]).toMatch(
          /^\[FIRING\] backlog: queueSize\(watched\) > 2 \(now 3\) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\n— jobsmith alerts on .+$/,
        );
        expect(got.telegram[1]).toMatch(
          /^\[RESOLVED\] backlog: queueSize\(watched\) > 2 no longer holds \(now 0\); resolved after \S+( \S+)?\.\n— jobsmith alerts on .+$/,
        );
        expect(got.webhook).toEqual(got.telegram);
        expect(t.hook.requests.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([
          ['POST', HOOK_PATH, 'application/json'],
          ['POST', HOOK_PATH, 'application/json'],
        ]);
        expect(got.mail).toEqual(['[jobsmith] FIRING: backlog', '[jobsmith] RESOLVED: backlog']);
        expect(t.smtp.messages.map((m) => m.to)).toEqual([
          ['ops@example.com'],
          ['ops@example.com'],
        ]);
        expect(t.smtp.messages[0]!.raw).toContain('[FIRING] backlog: queueSize(watched) > 2');
      },
      SLOW,
    );
  });
}
