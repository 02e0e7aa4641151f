/*
 * How GPT requests are made: the `gpt` section of the config, checked when the config loads,
 * and the OPENAI_* settings. Pure: no `openai` here, so loading a config never loads it.
 */
import type { Env } from '../config/env.js';
import type { GptConfig } from '../config/define.js';
import { ConfigError } from '../errors.js';
import {
  resolveBreaker,
  type BreakerOptions,
  type BreakerSettings,
} from '../flow/breakers/settings.js';
import { queueNameProblem } from '../jobs/limits.js';

/** Queue of the `gpt.complete` jobs unless the config names another (`gpt.queue`). */
export const DEFAULT_GPT_QUEUE = 'gpt';

/** The breaker every GPT job shares. */
export const GPT_BREAKER = 'openai';

/**
 * The breaker's defaults, declared by the integration: five upstream failures within a minute
 * open it for 30 seconds. The config's `gpt.breaker` overrides each.
 */
export const GPT_BREAKER_DEFAULTS = { failures: 5, window: '1m', cooldown: '30s' } as const;

/** Attempts in all that a reply which must be JSON may fail to parse or match its schema. */
export const JSON_TRIES = 3;

const FIELDS = new Set(['queue', 'breaker', 'onResult']);
const BREAKER_FIELDS = new Set(['failures', 'window', 'cooldown']);

/** What a request needs, from the environment. */
export interface GptSettings {
  /** OPENAI_API_KEY; undefined when unset (requests then fail, naming the variable). */
  apiKey?: string;
  /** OPENAI_BASE_URL: the API's root, `/v1` included. */
  baseURL: string;
  /** OPENAI_MODEL: the model of a payload that names none. */
  model: string;
  /** OPENAI_TIMEOUT: one attempt's limit, in milliseconds. */
  timeoutMs: number;
}

export function gptSettings(env: Env): GptSettings {
  return {
    apiKey: env.OPENAI_API_KEY,
    baseURL: env.OPENAI_BASE_URL,
    model: env.OPENAI_MODEL,
    timeoutMs: env.OPENAI_TIMEOUT,
  };
}

/**
 * Checks the config's `gpt` section; `fail` throws the config's error with the problem.
 * Called by loadConfig.
 */
export function checkGptConfig(value: unknown, fail: (problem: string) => never): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail("`gpt` must be an object: { queue: 'gpt', breaker: { failures, window, cooldown } }.");
  const config = value as Record<string, unknown>;
  const unknown = Object.keys(config).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0)
    fail(
      `unknown field ${unknown.map((k) => `"gpt.${k}"`).join(', ')}; the fields are ${[...FIELDS].join(', ')}.`,
    );
  if (config.queue !== undefined) {
    const problem = queueNameProblem(config.queue, 'gpt.queue');
    if (problem) fail(`${problem}.`);
  }
  if (config.onResult !== undefined && typeof config.onResult !== 'function')
    fail('`gpt.onResult` must be a function (result) => ..., run after each successful request.');
  if (config.breaker !== undefined) {
    const b = config.breaker;
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      fail("`gpt.breaker` must be an object: { failures: 5, window: '1m', cooldown: '30s' }.");
    const extra = Object.keys(b as object).filter((k) => !BREAKER_FIELDS.has(k));
    if (extra.length > 0)
      fail(
        `unknown field ${extra.map((k) => `"gpt.breaker.${k}"`).join(', ')}; the fields are ${[...BREAKER_FIELDS].join(', ')} (the name is always "${GPT_BREAKER}").`,
      );
    try {
      resolveBreaker(gptBreakerOptions(config as GptConfig), 'gpt');
    } catch (error) {
      fail((error as Error).message);
    }
  }
}

/** The `openai` breaker's options: the defaults, under the config's `gpt.breaker`. */
export function gptBreakerOptions(config: GptConfig | undefined): BreakerOptions {
  return { name: GPT_BREAKER, ...GPT_BREAKER_DEFAULTS, ...config?.breaker };
}

/** The same, checked, with durations in ms (the probe lease is the job's own). */
export function gptBreakerSettings(config: GptConfig | undefined): BreakerSettings {
  return resolveBreaker(gptBreakerOptions(config), 'gpt');
}

/** The GPT jobs' queue the config names, else the default. */
export function gptQueue(config: GptConfig | undefined): string {
  return config?.queue ?? DEFAULT_GPT_QUEUE;
}

/** Throws when no API key is set: every request would be refused. */
export function requireApiKey(settings: GptSettings): string {
  if (settings.apiKey) return settings.apiKey;
  throw new ConfigError('OPENAI_API_KEY is not set, so no GPT request can be made.', {
    hint: 'Set OPENAI_API_KEY (in the environment or .env) to an API key; a local OpenAI-compatible server takes any value.',
  });
}
