/**
 * The alert commands as an operator meets them: `for` and the cooldown over time (the clock
 * moved with JOBSMITH_NOW), a notification the queue refused sent by a later check,
 * `alerts:list`, `alerts:test`, and the checks `schedule:work` runs.
 */
import { afterEach, expect, it } from 'vitest';
import { describeBackend } from './helpers/app.js';
import { CHAT, createAlertsApp, type AlertsApp } from './alerts.fixture.js';

const SLOW = 90_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const at = (minutes: number, seconds = 0) => ({
  JOBSMITH_NOW: new Date(T0 + minutes * 60_000 + seconds * 1000).toISOString(),
});

let t: AlertsApp | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describeBackend('sqlite', 'alert commands', () => {
  it(
    'waits for `for` before firing, and keeps a condition back within the cooldown pending',
    async () => {
      t = await createAlertsApp(
        'sqlite',
        "queueSize('watched').above(0).for('5m')",
        "cooldown: '10m',",
      );
      await t.fill('watched', 1);
      const steps: Array<[number, string]> = [];
      const check = async (minute: number) => {
        const { code, alert } = await t!.check(at(minute));
        steps.push([
          minute,
          `${code} ${alert.state} ${alert.event ?? '-'} ${alert.notified.length}`,
        ]);
      };
      await check(0);
      await check(4);
      await check(5);
      await t.app.run(['queue:clear', '--queue', 'watched', '--force'], { env: t.env });
      await check(6);
      await t.fill('watched', 1);
      await check(7);
      await check(12); // held for 5m, but 6m after the resolved notification
      // The table says why it is still pending: the resolved notice of minute 6, 10m cooldown.
      const table = await t.app.run(['alerts:check'], { env: { ...t.env, ...at(12) } });
      // Within seconds: the notice's time is the pinned clock plus the time its check took.
      const until = new Date(T0 + 16 * 60_000).toISOString().slice(0, 18);
      expect(table.stdout).toMatch(new RegExp(`; cooldown until ${until}\\d\\.\\d{3}Z\\n`));
      await check(16);
      expect(steps).toEqual([
        [0, '0 pending pending 0'],
        [4, '0 pending - 0'],
        [5, '1 firing fired 3'],
        [6, '0 ok resolved 3'],
        [7, '0 pending pending 0'],
        [12, '0 pending - 0'],
        [16, '1 firing fired 3'],
      ]);
      expect(await t.sizes()).toMatchObject({ telegram: 3, mail: 3, default: 3 });
    },
    SLOW,
  );

  it(
    'alerts:list shows each alert, its targets (a webhook by its origin) and its state',
    async () => {
      t = await createAlertsApp('sqlite', "queueSize('watched').above(0)");
      const before = await t.app.run(['alerts:list', '--json'], { env: t.env });
      expect(before.stderr).toBe('');
      expect(JSON.parse(before.stdout)).toEqual([
        {
          name: 'backlog',
          condition: 'queueSize(watched) > 0',
          notify: [`telegram:${CHAT}`, 'mail:ops@example.com', `webhook:${t.hook.url}/…`],
          for_ms: 0,
          cooldown_ms: 300_000,
          state: null,
          last_value: null,
          last_value_text: null,
          pending_since: null,
          firing_since: null,
          resolved_at: null,
          last_notified_at: null,
          checked_at: null,
        },
      ]);
      await t.fill('watched', 2);
      expect((await t.check(at(0))).code).toBe(1);
      const list = await t.app.run(['alerts:list'], { env: t.env });
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      const [head, row] = list.stdout.trimEnd().split('\n');
      expect(head!.split(/\s{2,}/)).toEqual([
        'Alert',
        'Condition',
        'Notify',
        'Cooldown',
        'State',
        'Value',
        'For',
        'Last notified',
      ]);
      expect(row!.split(/\s{2,}/)).toEqual([
        'backlog',
        'queueSize(watched) > 0',
        `telegram:${CHAT}, mail:ops@example.com, webhook:${t.hook.url}/…`,
        '5m',
        'FIRING',
        '2',
        expect.stringMatching(/^\S+( \S+)? \(2026-06-01T12:00:00\.\d{3}Z\)$/),
        expect.stringMatching(/^2026-06-01T12:00:00\.\d{3}Z$/),
      ]);
      expect(list.stdout).not.toContain('s3cr3t');
    },
    SLOW,
  );

  it(
    'alerts:test queues a [TEST] notification to each target, which a worker delivers; an unknown name exits 2',
    async () => {
      t = await createAlertsApp('sqlite', "queueSize('watched').above(0)");
      const result = await t.app.run(['alerts:test', 'backlog'], { env: t.env });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(`^Queued telegram\\.send job \\S+ on queue telegram for telegram:${CHAT}\\.$`),
        ),
        expect.stringMatching(
          /^Queued mail\.send job \S+ on queue mail for mail:ops@example\.com\.$/,
        ),
        expect.stringMatching(
          /^Queued webhook\.post job \S+ on queue default for webhook:http:\/\/127\.0\.0\.1:\d+\/…\.$/,
        ),
        'A worker of each queue sends them (run queue:work --queue telegram,mail,default).',
      ]);
      await t.deliver(1);
      const got = t.received();
      expect(got.telegram).toEqual([
        expect.stringMatching(
          /^\[TEST\] backlog: a test notification from run alerts:test\. It fires when queueSize\(watched\) > 0 \(now no data\)\.\n— jobsmith alerts on .+$/,
        ),
      ]);
      expect(got.webhook).toEqual(got.telegram);
      expect(got.mail).toEqual(['[jobsmith] TEST: backlog']);
      // The alert's own state is not touched.
      const list = JSON.parse((await t.app.run(['alerts:list', '--json'], { env: t.env })).stdout);
      expect(list[0].state).toBeNull();

      const unknown = await t.app.run(['alerts:test', 'backlgo'], { env: t.env });
      expect(unknown.stderr).toBe(
        'Error: No alert is named "backlgo"; the alerts are backlog.\nRun `run alerts:list` to see them.\n',
      );
      expect(unknown.code).toBe(2);
    },
    SLOW,
  );

  it(
    'schedule:work checks the alerts as it starts, and a later alerts:check sees the same state',
    async () => {
      t = await createAlertsApp('sqlite', "queueSize('watched').above(0)");
      await t.fill('watched', 1);
      const scheduler = t.app.spawn(['schedule:work'], { env: t.env });
      try {
        await scheduler.waitForOutput(/notified: .*webhook\.post/, 20_000);
        expect(scheduler.stdout).toMatch(/ backlog FIRED: queueSize\(watched\) > 0\n/);
        expect(scheduler.stdout).toMatch(
          new RegExp(
            `  notified: telegram\\.send job \\S+ on telegram for telegram:${CHAT}; mail\\.send job`,
          ),
        );
        expect(scheduler.stdout).not.toContain('s3cr3t');
        expect(await t.check()).toMatchObject({ code: 1, alert: { state: 'firing', event: null } });
      } finally {
        const stopped = await scheduler.stop();
        expect(stopped.code).toBe(0);
        expect(stopped.stderr).toBe('');
      }
      expect(await t.sizes()).toMatchObject({ telegram: 1, mail: 1, default: 1 });
    },
    SLOW,
  );
});

describeBackend('redis', 'alert notifications the queue refused', () => {
  it(
    'are queued by a later check once the queue is back, and only then',
    async () => {
      t = await createAlertsApp('redis', "noWorker('nobody')");
      const down = await t.check({ ...at(0), REDIS_URL: 'redis://127.0.0.1:1' });
      expect(down.code).toBe(1);
      expect(down.alert).toMatchObject({ state: 'firing', event: 'fired', notified: [] });
      expect(down.alert.notify_error).toBe(
        'Cannot connect to Redis at redis://127.0.0.1:1: connection refused.',
      );
      // 20s later the notice is still the first checker's to send: nothing is queued.
      expect((await t.check(at(0, 20))).alert).toMatchObject({ resent: null, notified: [] });
      const later = await t.check(at(0, 40));
      expect(later.alert).toMatchObject({ state: 'firing', event: null, resent: 'firing' });
      expect(later.alert.notified.map((n) => n.job)).toEqual([
        'telegram.send',
        'mail.send',
        'webhook.post',
      ]);
      expect((await t.check(at(1, 30))).alert).toMatchObject({ resent: null, notified: [] });
      expect(await t.sizes()).toMatchObject({ telegram: 1, mail: 1, default: 1 });
    },
    SLOW,
  );
});
