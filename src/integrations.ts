/*
 * The integrations (alerts among them), for the app layer (src/cli/app.ts): their config
 * sections, handed to loadConfig, and their built-in jobs, loaded by App.registry() only for an
 * app that uses them.
 * Only their settings modules load here (no grammY, openai or nodemailer); each integration
 * loads its jobs and its client library when a config or the environment uses it.
 */
import type { App } from './cli/app.js';
import type { Env } from './config/env.js';
import type { JobsmithConfig } from './config/define.js';
import type { ConfigSection } from './config/sections.js';
import { CHANNEL_RATE_LIMITS, checkChannelsConfig } from './channels/limits.js';
import { checkGptConfig } from './gpt/settings.js';
import type { JobDefinition } from './jobs/types.js';
import { checkMailConfig } from './mail/settings.js';
import { TELEGRAM_RATE_LIMITS } from './telegram/send-limits.js';
import { checkTelegramConfig } from './telegram/settings.js';
import { checkTokensConfig } from './tokens/settings.js';

export const INTEGRATION_SECTIONS: readonly ConfigSection[] = [
  { key: 'telegram', check: checkTelegramConfig, rateLimits: TELEGRAM_RATE_LIMITS },
  { key: 'channels', check: checkChannelsConfig, rateLimits: CHANNEL_RATE_LIMITS },
  { key: 'tokens', check: checkTokensConfig },
  { key: 'gpt', check: checkGptConfig },
  { key: 'mail', check: checkMailConfig },
  {
    key: 'alerts',
    // Its checks (and zod's schemas for them) load only for a config that has alerts.
    check: async (value, fail) => {
      if (value === undefined) return;
      (await import('./alerts/settings.js')).checkAlertsConfig(value, fail);
    },
  },
];

export interface IntegrationJobs {
  /** The built-in jobs' names. */
  names: readonly string[];
  /** Whether this app uses the integration: its config section, or its environment. */
  used(config: JobsmithConfig, env: Env): boolean;
  /** Loads its job definitions (and with them its code). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load(app: App, config: JobsmithConfig): Promise<JobDefinition<any>[]>;
  /** What to set up when a worker without it meets one of its jobs. */
  setup: string;
}

export const INTEGRATION_JOBS: readonly IntegrationJobs[] = [
  {
    names: ['telegram.send', 'telegram.scheduled', 'telegram.update'],
    used: (config) => config.telegram !== undefined,
    load: async (app, config) =>
      (await import('./telegram/jobs.js')).telegramJobs(app, config.telegram!),
    setup:
      'add a `telegram` section (bots, handler) to its jobsmith.config.ts and set TELEGRAM_BOT_TOKEN (docs/telegram.md)',
  },
  {
    names: ['gpt.complete'],
    // `openai` loads at the first request, not here.
    used: (config, env) => config.gpt !== undefined || Boolean(env.OPENAI_API_KEY),
    load: async (app, config) => (await import('./gpt/jobs.js')).gptJobs(app, config.gpt),
    setup: 'set OPENAI_API_KEY in its environment (docs/gpt.md)',
  },
  {
    names: ['mail.send'],
    used: (config, env) =>
      config.mail !== undefined || env.MAIL_URL !== undefined || env.MAIL_HOST !== undefined,
    load: async (app, config) => (await import('./mail/jobs.js')).mailJobs(app, config.mail),
    setup: 'set MAIL_URL (or MAIL_HOST) and MAIL_FROM in its environment (docs/mail.md)',
  },
  {
    // The alerts' webhook notifications; plain fetch, no client library.
    names: ['webhook.post'],
    used: (config) => config.alerts !== undefined,
    load: async () => [(await import('./alerts/webhook-job.js')).webhookPost],
    setup:
      'add an `alerts` section to its jobsmith.config.ts, the config the alerts are checked with (docs/telemetry.md#alerts)',
  },
];
