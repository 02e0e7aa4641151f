/*
 * The pipeline's settings, from the environment (.env.example lists them all with their
 * defaults). Checked when the config loads: a wrong value is a ConfigError naming the variable,
 * the value and what it takes, so `run` says so once, without a stack trace.
 */
import { resolve as resolvePath } from 'node:path';
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
  /** PIPELINE_STORAGE_DIR: where generated images (images/) and downloaded media (media/) go. @defaultValue 'storage/pipeline' */
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

// --- Images and alerts: read apart from the settings above, so each part's settings
// --- stay in their own block.

/** Sizes PIPELINE_IMAGE_SIZE takes (the image models' sizes; `auto` lets the model choose). */
export const IMAGE_SIZES = [
  'auto',
  '1024x1024',
  '1536x1024',
  '1024x1536',
  '256x256',
  '512x512',
  '1792x1024',
  '1024x1792',
] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];

export interface ImageSettings {
  /** PIPELINE_IMAGE_MODEL: the OpenAI image model. @defaultValue 'gpt-image-1' */
  model: string;
  /** PIPELINE_IMAGE_SIZE: one of IMAGE_SIZES. @defaultValue '1024x1024' */
  size: ImageSize;
  /**
   * PIPELINE_IMAGE_REQUIRED: true fails a post whose image could not be made ("no image: ...");
   * false lets it go on without one. The admin is told either way. @defaultValue false
   */
  required: boolean;
  /**
   * Where image files go: `images/` in PIPELINE_STORAGE_DIR (storage/pipeline, next to the
   * default SQLite file), as an absolute path from the working directory.
   */
  dir: string;
  /** PIPELINE_IMAGE_KEEP: seconds an unattached image is kept before the cleanup deletes it. @defaultValue 24h */
  keepSeconds: number;
  /** PIPELINE_IMAGE_CLEANUP_CRON: when the cleanup runs. @defaultValue hourly, at minute 17 */
  cleanupCron: string;
  /** PIPELINE_IMAGE_CLEANUP_LIMIT: images one cleanup deletes at most, 1 to 10000. @defaultValue 500 */
  cleanupLimit: number;
  /**
   * PIPELINE_ALERT_FAILURE_RATE: an alert per pipeline queue fires when its failed attempts per
   * ended attempt pass this share (0 to 1) over 10 minutes. @defaultValue 0.2
   */
  alertFailureRate: number;
}

/** The image and alert settings from `env` (default: the process's environment over .env). */
export function pipelineImageSettings(
  env: EnvSource = readEnv(),
  cwd = process.cwd(),
): ImageSettings {
  const size = env.PIPELINE_IMAGE_SIZE?.trim() || '1024x1024';
  if (!(IMAGE_SIZES as readonly string[]).includes(size))
    throw invalid('PIPELINE_IMAGE_SIZE', size, `one of ${IMAGE_SIZES.join(', ')}`);
  const rate = env.PIPELINE_ALERT_FAILURE_RATE?.trim() || '0.2';
  if (!/^\d+(\.\d+)?$/.test(rate) || Number(rate) > 1)
    throw invalid('PIPELINE_ALERT_FAILURE_RATE', rate, 'a share from 0 to 1 (0.2: 20%)');
  return {
    model: env.PIPELINE_IMAGE_MODEL?.trim() || 'gpt-image-1',
    size: size as ImageSize,
    required: flag(env, 'PIPELINE_IMAGE_REQUIRED', false),
    dir: resolvePath(cwd, env.PIPELINE_STORAGE_DIR?.trim() || 'storage/pipeline', 'images'),
    keepSeconds: age(env, 'PIPELINE_IMAGE_KEEP', 86_400),
    cleanupCron: env.PIPELINE_IMAGE_CLEANUP_CRON?.trim() || '17 * * * *',
    cleanupLimit: whole(env, 'PIPELINE_IMAGE_CLEANUP_LIMIT', 500, 1, 10_000),
    alertFailureRate: Number(rate),
  };
}

function flag(env: EnvSource, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw invalid(name, env[name]!, 'true or false');
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, from `3600` or `30s`, `90m`, `24h`, `7d`; at least a second, at most a year. */
function age(env: EnvSource, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(raw);
  const value = match ? Number(match[1]) * AGE_UNITS[match[2] ?? 's']! : NaN;
  if (!(value >= 1 && value <= 365 * 86_400))
    throw invalid(name, raw, 'seconds (3600) or a duration (30s, 90m, 24h, 7d), at most a year');
  return value;
}

let cachedImages: ImageSettings | undefined;

/** The process's image and alert settings, read once. */
export function imageSettings(): ImageSettings {
  cachedImages ??= pipelineImageSettings();
  return cachedImages;
}

// --- Source media: read apart from the settings above, like the images' block.

/**
 * Bytes the Bot API uploads at most in a multipart request: 50 MB for a file, 10 MB for a photo
 * (https://core.telegram.org/bots/api#sending-files).
 */
export const BOT_API_FILE_LIMIT = 50 * 1024 * 1024;
export const BOT_API_PHOTO_LIMIT = 10 * 1024 * 1024;

export interface MediaSettings {
  /** PIPELINE_DOWNLOAD_MEDIA: the collector downloads each new post's media. @defaultValue true */
  download: boolean;
  /**
   * PIPELINE_MEDIA_MAX_BYTES: a media item bigger than this is not downloaded (skipped, logged).
   * 1 to 2000 MB (a local Bot API server takes up to 2000 MB). @defaultValue 52428800 (50 MB,
   * the Bot API's upload limit); photos are limited to 10 MB besides.
   */
  maxBytes: number;
  /** Where media files go: `media/` in PIPELINE_STORAGE_DIR, absolute from the working directory. */
  dir: string;
}

/** The media settings from `env` (default: the process's environment over .env). */
export function pipelineMediaSettings(
  env: EnvSource = readEnv(),
  cwd = process.cwd(),
): MediaSettings {
  return {
    download: flag(env, 'PIPELINE_DOWNLOAD_MEDIA', true),
    maxBytes: whole(env, 'PIPELINE_MEDIA_MAX_BYTES', BOT_API_FILE_LIMIT, 1, 2000 * 1024 * 1024),
    dir: resolvePath(cwd, env.PIPELINE_STORAGE_DIR?.trim() || 'storage/pipeline', 'media'),
  };
}

let cachedMedia: MediaSettings | undefined;

/** The process's media settings, read once. */
export function mediaSettings(): MediaSettings {
  cachedMedia ??= pipelineMediaSettings();
  return cachedMedia;
}
