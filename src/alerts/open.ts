/*
 * The alerts of an app, wired to its storage, queues and clock: what `run alerts:*`,
 * `schedule:work` and `metrics:serve` use. Opening checks that every target can be sent (the
 * job its kind needs exists in this app), so a misconfigured alert stops the command at once
 * with its name and the fix, not at the first incident.
 */
import { hostname } from 'node:os';
import type { App } from '../cli/app.js';
import { ConfigError, UsageError } from '../errors.js';
import { SchedulerClock } from '../schedule/clock.js';
import { databaseNow } from '../schedule/store.js';
import { checkAlerts, type AlertResult } from './check.js';
import { Notifier, type NotificationJobs, type SentNotification } from './notify.js';
import { ALERTS_HINT, configuredAlerts, type ResolvedAlert } from './settings.js';
import { readStates, type AlertRow } from './store.js';
import { webhookPost } from './webhook-job.js';

export class AppAlerts {
  constructor(
    readonly alerts: ResolvedAlert[],
    private readonly app: App,
    private readonly notifier: Notifier,
    private readonly clock: SchedulerClock,
  ) {}

  /** Checks every alert once (see checkAlerts). */
  async check(): Promise<{ now: number; results: AlertResult[] }> {
    const { knex } = await this.app.db();
    return checkAlerts(this.alerts, {
      knex,
      queues: (connection) => this.app.queues().get(connection),
      now: async () => {
        await this.clock.sync();
        return this.clock.now();
      },
      notifier: this.notifier,
    });
  }

  /** The stored states of the alerts, by name (an alert never checked has none). */
  async states(): Promise<Map<string, AlertRow>> {
    return readStates((await this.app.db()).knex, this.names());
  }

  /** Queues a test notification of the alert `name` to each of its targets. */
  async test(name: string): Promise<{ alert: ResolvedAlert; sent: SentNotification[] }> {
    const alert = this.alerts.find((a) => a.name === name);
    if (!alert)
      throw new UsageError(
        `No alert is named "${name}"; the alerts are ${this.names().join(', ') || '(none)'}.`,
        { hint: 'Run `run alerts:list` to see them.' },
      );
    const row = (await this.states()).get(name);
    const sent = await this.notifier.send('test', alert, {
      value: row?.lastValue ?? null,
      firingSince: row?.firingSince ?? null,
      resolvedAt: row?.resolvedAt ?? null,
    });
    return { alert, sent };
  }

  names(): string[] {
    return this.alerts.map((a) => a.name);
  }
}

/**
 * telegram:BOT:CHAT targets whose BOT the config does not name (`default` is TELEGRAM_BOT_TOKEN's
 * bot; a bot id, all digits, is taken as it is): the sender would fail them for good.
 */
function unknownBots(alerts: ResolvedAlert[], bots: Record<string, unknown> | undefined): string[] {
  return alerts.flatMap((alert) =>
    alert.targets.flatMap((t) =>
      t.type === 'telegram' &&
      t.bot !== undefined &&
      t.bot !== 'default' &&
      !/^\d+$/.test(t.bot) &&
      !(bots && Object.hasOwn(bots, t.bot))
        ? [
            `alert "${alert.name}" notifies ${t.text}, but the config names no bot "${t.bot}" (telegram.bots: ${Object.keys(bots ?? {}).join(', ') || 'none'})`,
          ]
        : [],
    ),
  );
}

/**
 * The app's alerts, ready to check.
 * @throws ConfigError when an alert's target cannot be sent from this app (a telegram: target
 *   without a `telegram` section or naming a bot it lacks, a mail: target without mail
 *   configured), naming each.
 */
export async function openAlerts(app: App): Promise<AppAlerts> {
  const { config } = await app.config();
  const alerts = configuredAlerts(config.alerts);
  const registry = await app.registry();
  const jobs: NotificationJobs = {
    telegram: config.telegram
      ? (registry.get('telegram.send') ?? 'no telegram.send job is defined')
      : 'the config has no `telegram` section: add telegram: {} to defineConfig (the workers of its send queue need TELEGRAM_BOT_TOKEN)',
    mail:
      registry.get('mail.send') ??
      'mail is not configured: add mail: {} to defineConfig or set MAIL_URL (the workers of the mail queue need MAIL_URL and MAIL_FROM)',
    webhook: registry.get('webhook.post') ?? webhookPost,
  } as NotificationJobs;
  const notifier = new Notifier(jobs, (items) => app.dispatcher().dispatchMany(items), hostname());
  const problems = [...notifier.problems(alerts), ...unknownBots(alerts, config.telegram?.bots)];
  if (problems.length > 0)
    throw new ConfigError(`Cannot notify: ${problems.join('; ')}.`, { hint: ALERTS_HINT });
  const db = await app.db();
  const clock = await SchedulerClock.create(app.rawEnv, () => databaseNow(db));
  return new AppAlerts(alerts, app, notifier, clock);
}
