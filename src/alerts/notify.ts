/*
 * Sends an alert's notifications through our own queue: one job per target, all stored in one
 * dispatchMany (all or none), each with a unique key made of the alert, the change and the
 * target, so a notice sent again after a checker died half-way is not stored twice while the
 * first copy still waits. Telegram targets become `telegram.send` jobs (the rate-limited
 * sender, on the config's telegram.sendQueue), mail targets `mail.send` jobs, webhooks
 * `webhook.post` jobs: the same definitions the app's workers run.
 */
import type { DispatchItem } from '../queue/dispatcher.js';
import type { DispatchResult, JobDefinition } from '../jobs/types.js';
import { noticeText, type NoticeFacts, type NoticeKind } from './messages.js';
import type { ResolvedAlert } from './settings.js';
import { shownTarget, type AlertTarget } from './targets.js';

/** How long a notification's unique key holds while its job waits: a day. */
const UNIQUE_FOR_S = 86_400;

/** The job definition each kind of target goes through, or why there is none. */
export type NotificationJobs = Record<AlertTarget['type'], JobDefinition<unknown> | string>;

export interface SentNotification {
  target: string;
  job: string;
  queue: string;
  id: string;
  deduplicated: boolean;
}

export class Notifier {
  constructor(
    private readonly jobs: NotificationJobs,
    private readonly dispatchMany: (
      items: Array<DispatchItem<unknown>>,
    ) => Promise<DispatchResult[]>,
    private readonly host: string,
  ) {}

  /**
   * What stops the alerts' targets from being sent: each alert's target whose job this app
   * lacks, with what to set up. Empty when every target can be sent.
   */
  problems(alerts: ResolvedAlert[]): string[] {
    return alerts.flatMap((alert) =>
      alert.targets.flatMap((t) => {
        const job = this.jobs[t.type];
        return typeof job === 'string'
          ? [`alert "${alert.name}" notifies ${shownTarget(t.text)}, but ${job}`]
          : [];
      }),
    );
  }

  /**
   * Queues the notification of `kind` to every target of the alert. `key` names the change it
   * reports (`firing:1767225600000`); a test notification has none and is never deduplicated.
   */
  async send(
    kind: NoticeKind,
    alert: ResolvedAlert,
    facts: Omit<NoticeFacts, 'host'>,
    key?: string,
  ): Promise<SentNotification[]> {
    const { subject, text } = noticeText(kind, alert, { ...facts, host: this.host });
    const items = alert.targets.map((target, i) => {
      const job = this.jobs[target.type];
      if (typeof job === 'string')
        throw new Error(`alert "${alert.name}" notifies ${shownTarget(target.text)}, but ${job}`);
      const unique =
        key === undefined
          ? undefined
          : { key: () => `alert:${alert.name}:${key}:${i}`, for: UNIQUE_FOR_S };
      // A webhook may go on the alert's own queue: on `default` it would wait behind a backlog
      // of `default` it reports, and never go out while `default` has no worker.
      const queued =
        target.type === 'webhook' && alert.queue ? { ...job, queue: alert.queue } : job;
      return {
        job: unique ? { ...queued, unique } : queued,
        payload: payloadFor(target, subject, text),
      };
    });
    const results = await this.dispatchMany(items);
    return results.map((r, i) => ({
      target: shownTarget(alert.targets[i]!.text),
      job: items[i]!.job.name,
      queue: items[i]!.job.queue,
      id: r.id,
      deduplicated: r.deduplicated,
    }));
  }
}

function payloadFor(target: AlertTarget, subject: string, text: string): unknown {
  switch (target.type) {
    case 'telegram':
      return {
        ...(target.bot ? { bot: target.bot } : {}),
        method: 'sendMessage',
        params: { chat_id: target.chatId, text },
      };
    case 'mail':
      return { to: target.to, subject, text };
    case 'webhook':
      return { url: target.url, body: { text } };
  }
}
