/*
 * An app for the alert tests: a scratch app (test/helpers/app.ts) with `telegram` and `mail`
 * sections and one alert per config, the three receivers its notifications go to (the fake
 * Bot API, the smtp-server double, the webhook receiver), the environment that points `run`
 * at them, and helpers to run checks and a worker that sends the notifications.
 */
import { expect } from 'vitest';
import { createApp, type AppBackend, type TestApp } from './helpers/app.js';
import type { CliResult } from './helpers/cli.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { SMTP_TEST_CA, startSmtpDouble, type SmtpDouble } from './doubles/smtp/index.js';
import { startWebhookDouble, type WebhookDouble } from './doubles/webhook/index.js';
import { waitFor } from './helpers/wait.js';

export const CHAT = 4242;
/** A path that stands for a Slack webhook's secret: it must never be printed. */
export const HOOK_PATH = '/services/T000/B000/s3cr3tPath';

/** A config whose one alert is `when` (TypeScript), notifying all three receivers. */
export function alertConfig(hook: WebhookDouble, when: string, extra = ''): string {
  return `
import { defineConfig } from 'jobsmith';
import { queueSize, noWorker, failureRate, failures, sendFailures, waitTime, breakerOpen } from 'jobsmith/alerts';

export default defineConfig({
  telegram: {},
  mail: {},
  alerts: [
    {
      name: 'backlog',
      when: ${when},
      notify: ['telegram:${CHAT}', 'mail:ops@example.com', 'webhook:${hook.url}${HOOK_PATH}'],
      ${extra}
    },
  ],
});
`;
}

/** What `run alerts:check --json` prints for one alert. */
export interface CheckedAlert {
  name: string;
  state: 'ok' | 'pending' | 'firing';
  value: number | null;
  event: string | null;
  resent: string | null;
  notified: Array<{ target: string; job: string; queue: string; id: string }>;
  notify_error: string | null;
  error: string | null;
}

export interface AlertsApp {
  app: TestApp;
  api: FakeBotApi;
  smtp: SmtpDouble;
  hook: WebhookDouble;
  env: Record<string, string>;
  /** `run alerts:check --json` (extra env on top); its exit code and the one alert. */
  check(env?: Record<string, string>): Promise<{ code: number | null; alert: CheckedAlert }>;
  /** Stores `n` jobsmith.ping jobs on `queue`. */
  fill(queue: string, n: number): Promise<void>;
  /** Waiting jobs per queue, from `run queue:size --json`. */
  sizes(): Promise<Record<string, number>>;
  /** Runs a worker of telegram, mail, default and ops until each receiver has `n` messages. */
  deliver(n: number): Promise<void>;
  /** The texts each receiver got, in order. */
  received(): { telegram: string[]; mail: string[]; webhook: string[] };
  cleanup(): Promise<void>;
}

export async function createAlertsApp(
  backend: AppBackend,
  when: string,
  extra = '',
): Promise<AlertsApp> {
  const [api, smtp, hook] = await Promise.all([
    startFakeBotApi({ chats: [CHAT] }),
    startSmtpDouble(),
    startWebhookDouble(),
  ]);
  const app = await createApp(backend, alertConfig(hook, when, extra));
  const env = {
    TELEGRAM_API_ROOT: api.apiRoot,
    TELEGRAM_BOT_TOKEN: api.token,
    MAIL_URL: smtp.url,
    MAIL_ENCRYPTION: 'starttls',
    MAIL_FROM: 'Alerts <alerts@example.com>',
    NODE_EXTRA_CA_CERTS: SMTP_TEST_CA,
  };
  const parse = (result: CliResult) => {
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as { alerts: CheckedAlert[] };
    expect(out.alerts).toHaveLength(1);
    return { code: result.code, alert: out.alerts[0]! };
  };
  return {
    app,
    api,
    smtp,
    hook,
    env,
    async check(extra = {}) {
      return parse(await app.run(['alerts:check', '--json'], { env: { ...env, ...extra } }));
    },
    async fill(queue, n) {
      const input = Array.from({ length: n }, () => '{}').join('\n') + '\n';
      const result = await app.run(['queue:dispatch', 'jobsmith.ping', '--queue', queue], {
        env,
        input,
      });
      expect(result.stderr).toBe('');
    },
    async sizes() {
      const result = await app.run(['queue:size', '--json'], { env });
      expect(result.stderr).toBe('');
      const rows = JSON.parse(result.stdout) as Array<{
        queue: string;
        pending: number;
        delayed: number;
      }>;
      return Object.fromEntries(rows.map((r) => [r.queue, r.pending + r.delayed]));
    },
    async deliver(n) {
      const worker = app.spawn(
        ['queue:work', '--queue', 'telegram,mail,default,ops', '--sleep', '100ms'],
        { env, timeoutMs: 60_000 },
      );
      try {
        await waitFor(
          () => api.sent.length >= n && smtp.messages.length >= n && hook.requests.length >= n,
          {
            timeoutMs: 30_000,
            message: `telegram ${api.sent.length}, mail ${smtp.messages.length}, webhook ${hook.requests.length} of ${n}`,
          },
        );
      } finally {
        await worker.stop();
      }
    },
    received() {
      return {
        telegram: api.sent.map((s) => String(s.params.text)),
        mail: smtp.messages.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? ''),
        webhook: hook.requests.map((r) => String((r.body as { text?: string }).text)),
      };
    },
    async cleanup() {
      await app.cleanup();
      await Promise.all([api.close(), smtp.close(), hook.close()]);
    },
  };
}
