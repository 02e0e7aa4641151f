import type { AlertCondition } from '../alerts/conditions.js';
import type { CommandDefinition } from '../cli/app-commands/define.js';
import type { Backoff, JobDefinition } from '../jobs/types.js';
import type { ScheduleEntry } from '../schedule/types.js';
import type { RetainOptions } from '../history/retention.js';

/**
 * Anything grammY can run an update through: a `Bot` or a `Composer` (both have
 * `middleware()`). Typed structurally so the config types never load grammY.
 */
export interface TelegramHandler {
  middleware(): unknown;
}

/**
 * Telegram bots (docs/telegram.md). `TELEGRAM_BOT_TOKEN` adds a bot named `default`; `bots`
 * names more. `run longpoll --bot NAME` stores each bot's updates, and the built-in
 * `telegram.update` job runs each through `handler`.
 */
export interface TelegramConfig {
  /** Bots by name (letters, digits, . _ -), each with its token from @BotFather. */
  bots?: Record<string, { token: string }>;
  /**
   * The grammY `Bot` or `Composer` that handles updates: `bot.command('start', (ctx) =>
   * ctx.reply('hi'))`. Its middleware runs inside the `telegram.update` job, on a Bot jobsmith
   * makes for the update's bot (TELEGRAM_API_ROOT applies, and a Bot's API transformers are
   * copied over). Required by `run longpoll`.
   */
  handler?: TelegramHandler;
  /** Queue of the `telegram.update` jobs. @defaultValue 'telegram-updates' */
  updatesQueue?: string;
  /** Queue of the sender's jobs (`telegram.send`, `telegram.scheduled`). @defaultValue 'telegram' */
  sendQueue?: string;
  /**
   * Where sends made inside a handler (ctx.reply, ctx.api.sendMessage...) go: `'queue'` makes
   * each a `telegram.send` job under Telegram's limits (the call resolves at once with a
   * placeholder message, message_id 0); `'direct'` sends at once through grammY, as the app
   * wrote it, with the real result. @defaultValue 'queue'
   */
  replies?: 'queue' | 'direct';
}

/**
 * The built-in `gpt.complete` job (docs/gpt.md). The API key, base URL, default model and
 * per-attempt timeout come from OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_TIMEOUT.
 * A config with this section (or an environment with OPENAI_API_KEY) gets the job.
 */
export interface GptConfig {
  /** Queue of the `gpt.complete` jobs. @defaultValue 'gpt' */
  queue?: string;
  /**
   * The `openai` circuit breaker every GPT job shares, on every worker of the storage.
   * @defaultValue { failures: 5, window: '1m', cooldown: '30s' }
   */
  breaker?: { failures?: number; window?: number | string; cooldown?: number | string };
  /**
   * Runs in the worker after each successful request, with its result; a throw fails the
   * attempt (the request is made again on the retry). Jobs named by a payload's `onResult`
   * are dispatched after it.
   */
  onResult?: (result: GptResult) => unknown;
}

/**
 * What a `gpt.complete` job returns, gives the config's `onResult` hook and dispatches to the
 * payload's `onResult` job. Declared here, with the config types, so they load no GPT code.
 */
export interface GptResult {
  /** The gpt.complete job's id (its gpt_requests row's job_id). */
  jobId: string;
  /** The model that answered, as the server names it. */
  model: string;
  /** The reply's text (trimmed when `onLength: 'trim'` cut it). */
  text: string;
  /** The parsed reply, when the payload asked for JSON (`response_format`). */
  json?: unknown;
  /** `stop`, or `length` when the reply was cut at max_tokens and kept (`onLength: 'trim'`). */
  finishReason: string;
  /** True when the reply was cut at max_tokens. */
  truncated: boolean;
  /** Tokens the server counted; null when it did not say. */
  usage: { promptTokens: number | null; completionTokens: number | null };
  /** How long the request took, in milliseconds. */
  latencyMs: number;
  /** The payload's metadata, as given. */
  metadata?: Record<string, unknown>;
}

/**
 * What a payload's `onRetry` job is dispatched with: an attempt failed and the request is made
 * again (unless it was the last try).
 */
export interface GptRetry {
  /** The gpt.complete job's id. */
  jobId: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Why, secrets masked. */
  error: string;
  /** True when the reply was unusable (not JSON, or not matching its schema). */
  invalidReply: boolean;
  /** The payload's metadata, as given. */
  metadata?: Record<string, unknown>;
}

/** What a payload's `onFailure` job is dispatched with, once the request has finally failed. */
export interface GptFailure {
  /** The gpt.complete job's id. */
  jobId: string;
  /** Why, secrets masked (as stored in gpt_requests.error). */
  error: string;
  /**
   * `context_length_exceeded` (the prompt is over the model's context), `truncated` (the reply
   * was cut at max_tokens), `content_filter`, `invalid_reply` (every reply was unusable); null
   * for any other failure (a refused key, a 4xx, upstream failures on every try).
   */
  code: 'context_length_exceeded' | 'truncated' | 'content_filter' | 'invalid_reply' | null;
  /** The payload's metadata, as given. */
  metadata?: Record<string, unknown>;
}

/**
 * Mail (docs/mail.md). The SMTP server comes from the environment (MAIL_URL, or MAIL_HOST,
 * MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_ENCRYPTION, MAIL_FROM); this section only says
 * where the `mail.send` jobs go. Workers get `mail.send` when the environment names a server or
 * the config has this section.
 */
export interface MailConfig {
  /** Queue of the `mail.send` jobs. @defaultValue 'mail' */
  queue?: string;
}

/**
 * One alert (docs/telemetry.md#alerts): `run alerts:check` (cron), `run schedule:work` and
 * `run metrics:serve` evaluate its condition; it notifies once when it fires and once when it
 * resolves, through the queue. Checked when the config loads.
 *
 * @example
 * ```ts
 * import { queueSize } from 'jobsmith/alerts';
 * alerts: [{
 *   name: 'telegram-backlog',
 *   when: queueSize('telegram').above(1000).for('5m'),
 *   notify: ['telegram:123456789', 'mail:ops@example.com', 'webhook:https://hooks.slack.com/services/...'],
 * }]
 * ```
 */
export interface AlertConfig {
  /** Letters, digits and . _ - (at most 100), unique among the alerts: its state is kept under it. */
  name: string;
  /**
   * The condition, built with `jobsmith/alerts`: queueSize, failureRate, failures,
   * sendFailures, waitTime, breakerOpen, noWorker.
   */
  when: AlertCondition;
  /**
   * Where notifications go (1 to 20): `telegram:CHAT_ID` (or `telegram:BOT:CHAT_ID`) as a
   * telegram.send job, `mail:ADDRESS` as a mail.send job, `webhook:https://URL` as a
   * webhook.post job (Slack-compatible JSON `{ text }`).
   */
  notify: string[];
  /**
   * After a notification (firing or resolved) the alert does not fire again for this long: a
   * condition that comes back sooner keeps it pending until then. Seconds or a duration, at
   * most 7d. @defaultValue '5m'
   */
  cooldown?: number | string;
  /**
   * The queue of this alert's webhook notifications (`webhook.post` jobs). Give one a worker
   * always runs and that the alert does not watch: on `default`, a notice about a backlog of
   * `default` waits behind that backlog, and none goes out while `default` has no worker.
   * Telegram and mail targets use their integrations' queues. @defaultValue 'default'
   */
  queue?: string;
}

/**
 * Settings for one queue, keyed by queue name in `defineConfig({ queues })`. Each can be
 * overridden without a deploy by `QUEUE_<NAME>_CONCURRENCY|GLOBAL_CONCURRENCY|TRIES|TIMEOUT|
 * BACKOFF` (the name upper-cased, other characters as `_`); a `run queue:work` flag wins over
 * both. They apply to every job of the queue when it runs, over the job definition's own (and a
 * dispatch's `tries`). docs/concurrency.md explains the two concurrency settings.
 */
export interface QueueSettings {
  /**
   * Jobs of this queue one worker runs at once: 1 to 1000. A worker of this queue alone runs
   * this many unless --concurrency says otherwise. A worker of several queues runs at most this
   * many of this queue's jobs within its total (--concurrency, or else the sum of its queues'
   * concurrency, a queue without one counting 1).
   * @defaultValue 1
   */
  concurrency?: number;
  /**
   * Jobs of this queue running at once across every worker and host on the same storage: 1 to
   * 100,000, enforced when a job is claimed (a job whose lease ran out does not count). Give
   * every worker of the queue the same value.
   * @defaultValue none (no cap)
   */
  globalConcurrency?: number;
  /** Attempts in all, the first included: 1 to 1,000,000. @defaultValue the job's tries */
  tries?: number;
  /** Seconds between retries, as defineJob takes it. @defaultValue the job's backoff */
  backoff?: Backoff;
  /**
   * Seconds (30) or a duration ('30s', '5m') a handler may run before its AbortSignal fires.
   * @defaultValue the job's timeout
   */
  timeout?: number | string;
  /**
   * How long this queue's finished jobs are kept in job_history: `{ succeeded: '1h', failed:
   * '7d', cancelled: '7d' }`, each seconds, a duration or `false`. A job's own `retain` wins,
   * key by key. Not read from the environment. See docs/lifecycle.md.
   * @defaultValue succeeded not kept, failed and cancelled 7 days
   */
  retain?: RetainOptions;
}

/**
 * A rate limit shared by every worker on the same storage, keyed by its name in
 * `defineConfig({ rateLimits })` and taken by jobs through `rateLimited(name, keyOf?)`. Each key
 * of it (a chat id...) gets `limit` requests per `per`, plus `burst` at once (GCRA; see
 * docs/rate-limits.md). Checked when the config loads: a bad value is a ConfigError.
 *
 * @example
 * ```ts
 * rateLimits: {
 *   'telegram.global': { limit: 30, per: '1s' },
 *   'telegram.chat': { limit: 1, per: '1s' },
 *   'telegram.group': { limit: 20, per: '1m' },
 * }
 * ```
 */
export interface RateLimitSettings {
  /** Requests per `per`, for each key: a whole number from 1 to 1,000,000. */
  limit: number;
  /**
   * The window: seconds (`1`, `0.5`) or a duration (`'500ms'`, `'1s'`, `'1m'`, `'1h'`, `'1d'`),
   * at least 1 ms and at most 366 days.
   */
  per: number | string;
  /**
   * Requests a quiet key may send at once above the steady rate: a whole number from 0 to
   * 1,000,000, so at most `limit + burst` in any window of `per`.
   * @defaultValue 0
   */
  burst?: number;
}

/**
 * Where `run purge:tokens` finds the application's refresh tokens (docs/operations.md). The
 * table is the app's own; jobsmith only deletes rows whose `expiresAt` has passed.
 */
export interface TokensConfig {
  /**
   * The table, optionally schema-qualified on PostgreSQL (`auth.refresh_tokens`): letters,
   * digits and `_`. @defaultValue 'refresh_tokens'
   */
  table?: string;
  /**
   * The column holding each token's expiry: a timestamp, timestamptz or date column, or unix
   * time in seconds or milliseconds (numbers from 1e11 on read as milliseconds); on SQLite also
   * ISO 8601 text (`2026-11-30 17:00:00`, zone-less text is UTC). @defaultValue 'expires_at'
   */
  expiresAt?: string;
  /**
   * The SQL database that holds the table: a `postgres://` URL, or the path of an SQLite file
   * (relative to the working directory) that must exist.
   * @defaultValue jobsmith's own storage (DB_CONNECTION with DB_DATABASE or DATABASE_URL)
   */
  connection?: string;
}

/** What belongs in code rather than in the environment. */
export interface JobsmithConfig {
  /** Every job the app defines; a worker can only run jobs listed here. */
  jobs?: JobDefinition<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Per-queue settings. */
  queues?: Record<string, QueueSettings>;
  /**
   * The queues `run queue:work` takes when it is given no `--queue`, in strict priority order
   * (the first is always emptied first), as a Horizon supervisor's `queue` list: an app whose
   * workers all serve the same queues says so once, here. `--queue` still wins.
   * @defaultValue ['default']
   */
  workerQueues?: string[];
  /**
   * Named rate limits (letters, digits and . _ -, at most 190 characters), shared by every
   * worker on the storage; jobs take them with the `rateLimited` middleware. Every name a job's
   * `rateLimited()` uses must be declared here. @defaultValue {}
   */
  rateLimits?: Record<string, RateLimitSettings>;
  /** Folder `run make:job` writes new jobs into, relative to the config file. @defaultValue 'jobs' */
  jobsDir?: string;
  /**
   * Jobs to dispatch and `run` commands to run on cron expressions; `run schedule:run` (cron,
   * every minute) or `run schedule:work` (supervisor) fires them. Checked when the config loads.
   */
  schedule?: ScheduleEntry[];
  /**
   * IANA time zone of entries that name none (`Europe/Paris`). Every host that runs the
   * scheduler reads zone-less entries in this zone, whatever its own TZ.
   * @defaultValue 'UTC'
   */
  scheduleTimezone?: string;
  /** Telegram bots and their update handler; see TelegramConfig. */
  telegram?: TelegramConfig;
  /** The app's refresh tokens, for `run purge:tokens`; see TokensConfig. */
  tokens?: TokensConfig;
  /** The built-in GPT job: its queue, breaker and result hook; see GptConfig. */
  gpt?: GptConfig;
  /** Where `mail.send` jobs go; see MailConfig. */
  mail?: MailConfig;
  /**
   * Telegram channels read through a user account (src/channels, docs/channels.md): `{}`. Its
   * presence declares the `telegram.mtproto` rate limit that flood waits push back.
   */
  channels?: ChannelsConfig;
  /** Alerts on queue sizes, failures, wait times, breakers and workers; see AlertConfig. */
  alerts?: AlertConfig[];
  /**
   * The app's own `run` commands, made with defineCommand() (docs/app-commands.md): listed by
   * `run --help` under "App commands", schedulable like the built-in ones. @defaultValue []
   */
  commands?: CommandDefinition[];
}

/** The `channels` section: no fields yet; see JobsmithConfig.channels. */
export type ChannelsConfig = Record<string, never>;

/** Identity function that gives the config file its types. */
export function defineConfig(config: JobsmithConfig): JobsmithConfig {
  return config;
}
