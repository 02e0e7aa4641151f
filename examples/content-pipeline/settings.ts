/*
 * The pipeline's settings, from the environment (.env.example lists them all with their
 * defaults). Checked when the config loads: a wrong value is a ConfigError naming the variable,
 * the value and what it takes, so `run` says so once, without a stack trace.
 */
import { ConfigError } from 'jobsmith';
import { readEnv, type EnvSource } from './env.js';

/** The queues, in the worker's priority order: `run queue:work --queue rewrite,publish,collector,imagegen`. */
export const QUEUES = {
  collector: 'collector',
  rewrite: 'rewrite',
  publish: 'publish',
  imagegen: 'imagegen',
} as const;
export type PipelineQueue = keyof typeof QUEUES;

export interface PipelineSettings {
  /** PIPELINE_CHANNELS: channels to collect (`@username` or a numeric id), comma-separated. */
  channels: string[];
  /** PIPELINE_TARGETS: channels to publish to, comma-separated. */
  targets: string[];
  /** PIPELINE_ADMIN_CHAT: the chat told about retries and failures; none: they are only logged. */
  adminChat?: string;
  /** PIPELINE_COLLECT_CRON: when the collector runs. @defaultValue every 5 minutes */
  collectCron: string;
  /** PIPELINE_COLLECT_LIMIT: messages read per channel and run, 1 to 100. @defaultValue 100 */
  collectLimit: number;
  /** PIPELINE_TEXT_LIMIT: characters a rewritten text may have; longer is trimmed. @defaultValue 1024 */
  textLimit: number;
  /** PIPELINE_MAX_TOKENS: the most tokens a rewrite's reply may have. @defaultValue 800 */
  maxTokens: number;
  /** Seconds: PIPELINE_OPENAI_TIMEOUT (30), PIPELINE_MTPROTO_TIMEOUT (60), PIPELINE_PUBLISH_TIMEOUT (45). */
  timeouts: { openai: number; mtproto: number; publish: number };
  /** PIPELINE_<QUEUE>_TRIES: attempts in all. @defaultValue collector 3, rewrite 3, publish 5, imagegen 3 */
  tries: Record<PipelineQueue, number>;
  /** PIPELINE_<QUEUE>_CONCURRENCY. @defaultValue collector 1, rewrite 4, publish 2, imagegen 1 */
  concurrency: Record<PipelineQueue, number>;
  /** PIPELINE_BACKOFF_BASE: seconds before the first retry, doubling after (2^n s). @defaultValue 2 */
  backoffBase: number;
  /** PIPELINE_PUBLISH_RETRY_SECONDS: a publication whose Telegram is down waits this long. @defaultValue 60 */
  publishRetrySeconds: number;
  /** PIPELINE_STORAGE_DIR: where generated images go. @defaultValue 'storage/pipeline' */
  storageDir: string;
  /**
   * PIPELINE_CHANNELS_FILE: read channels from this JSON file (the channels double of the tests
   * and the demo) instead of Telegram. Never set it in production.
   */
  channelsFile?: string;
}

const DEFAULT_TRIES: Record<PipelineQueue, number> = {
  collector: 3,
  rewrite: 3,
  publish: 5,
  imagegen: 3,
};
const DEFAULT_CONCURRENCY: Record<PipelineQueue, number> = {
  collector: 1,
  rewrite: 4,
  publish: 2,
  imagegen: 1,
};

/** The settings from `env` (default: the process's environment over .env). */
export function pipelineSettings(env: EnvSource = readEnv()): PipelineSettings {
  const tries = {} as Record<PipelineQueue, number>;
  const concurrency = {} as Record<PipelineQueue, number>;
  for (const queue of Object.keys(QUEUES) as PipelineQueue[]) {
    const name = queue.toUpperCase();
    tries[queue] = whole(env, `PIPELINE_${name}_TRIES`, DEFAULT_TRIES[queue], 1, 100);
    concurrency[queue] = whole(
      env,
      `PIPELINE_${name}_CONCURRENCY`,
      DEFAULT_CONCURRENCY[queue],
      1,
      100,
    );
  }
  return {
    channels: list(env, 'PIPELINE_CHANNELS'),
    targets: list(env, 'PIPELINE_TARGETS'),
    adminChat: chat(env, 'PIPELINE_ADMIN_CHAT'),
    collectCron: env.PIPELINE_COLLECT_CRON?.trim() || '*/5 * * * *',
    collectLimit: whole(env, 'PIPELINE_COLLECT_LIMIT', 100, 1, 100),
    textLimit: whole(env, 'PIPELINE_TEXT_LIMIT', 1024, 50, 4096),
    maxTokens: whole(env, 'PIPELINE_MAX_TOKENS', 800, 16, 100_000),
    timeouts: {
      openai: seconds(env, 'PIPELINE_OPENAI_TIMEOUT', 30),
      mtproto: seconds(env, 'PIPELINE_MTPROTO_TIMEOUT', 60),
      publish: seconds(env, 'PIPELINE_PUBLISH_TIMEOUT', 45),
    },
    tries,
    concurrency,
    backoffBase: seconds(env, 'PIPELINE_BACKOFF_BASE', 2),
    publishRetrySeconds: seconds(env, 'PIPELINE_PUBLISH_RETRY_SECONDS', 60),
    storageDir: env.PIPELINE_STORAGE_DIR?.trim() || 'storage/pipeline',
    channelsFile: env.PIPELINE_CHANNELS_FILE?.trim() || undefined,
  };
}

function invalid(name: string, value: string, takes: string): ConfigError {
  return new ConfigError(`Invalid ${name}="${value}": it takes ${takes}.`, {
    hint: `Fix ${name} in .env (examples/content-pipeline/.env.example lists every setting).`,
  });
}

function whole(env: EnvSource, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalid(name, raw, `a whole number from ${min} to ${max}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds, from `30`, `30s`, `500ms`, `5m` or `1h`; more than 0 and at most a day. */
function seconds(env: EnvSource, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
  const value = match ? Number(match[1]) * UNITS[match[2] ?? 's']! : NaN;
  if (!(value > 0 && value <= 86_400))
    throw invalid(name, raw, 'seconds (30) or a duration (500ms, 30s, 5m, 1h), at most a day');
  return value;
}

const CHANNEL = /^(@[A-Za-z0-9_]{4,64}|-?\d{1,20})$/;

function list(env: EnvSource, name: string): string[] {
  const items = (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items)
    if (!CHANNEL.test(item))
      throw invalid(
        name,
        env[name]!,
        `channels separated by commas, each @username or a numeric id ("${item}" is neither)`,
      );
  return [...new Set(items)];
}

function chat(env: EnvSource, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!CHANNEL.test(raw)) throw invalid(name, raw, 'a chat id (123456789, -100...) or @username');
  return raw;
}

let cached: PipelineSettings | undefined;

/** The process's settings, read once (the config reads them when it loads). */
export function settings(): PipelineSettings {
  cached ??= pipelineSettings();
  return cached;
}
