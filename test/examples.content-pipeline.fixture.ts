/**
 * What the content pipeline's end-to-end tests share: the example's config, a bounded wait, and
 * the environment that points a `run` process at the doubles (the fake Bot API, the fake
 * OpenAI server, the channels file).
 */
import path from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import type { ChannelsFile } from './doubles/channels/index.js';
import type { FakeOpenAi } from './doubles/openai/index.js';
import type { FakeBotApi } from './doubles/telegram/index.js';

/** The example's jobsmith.config.ts. */
export const PIPELINE_CONFIG = path.join(
  REPO_ROOT,
  'examples',
  'content-pipeline',
  'jobsmith.config.ts',
);

/** How long a test waits for the pipeline to reach a state, ms. */
export const WAIT_MS = 20_000;

/** Waits (bounded: WAIT_MS) until `fn` gives a value; fails with `message`. */
export function until<T>(fn: () => Promise<T | undefined>, message: string): Promise<T> {
  return waitFor(fn, { timeoutMs: WAIT_MS, message }) as Promise<T>;
}

/**
 * The variables of a pipeline on the doubles: the bot and the model are the fakes, the channels
 * `channelNames` are read from `channels`, the admin is told in `admin`, posts go to `target`,
 * retries wait 50 ms; `extra` over them.
 */
export function pipelineEnv(
  doubles: { bot: FakeBotApi; openai: FakeOpenAi; channels: ChannelsFile },
  where: { channelNames: string; admin: number; target: number },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: doubles.bot.token,
    TELEGRAM_API_ROOT: doubles.bot.apiRoot,
    OPENAI_API_KEY: doubles.openai.apiKey,
    OPENAI_BASE_URL: doubles.openai.baseURL,
    OPENAI_MODEL: 'fake-model',
    PIPELINE_CHANNELS: where.channelNames,
    PIPELINE_ADMIN_CHAT: String(where.admin),
    PIPELINE_TARGETS: String(where.target),
    PIPELINE_CHANNELS_FILE: doubles.channels.path,
    PIPELINE_BACKOFF_BASE: '0.05',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
