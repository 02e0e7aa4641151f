/*
 * The built-in `gpt.complete` job: one chat completion per attempt, its row in gpt_requests
 * kept up to date, the result handed to the config's `onResult` hook and to the payload's
 * `onResult` job. Every GPT job shares the `openai` breaker; errors.ts says which failures
 * count, retry or fail at once.
 */
import { channel } from 'node:diagnostics_channel';
import type { GptConfig, GptFailure, GptResult, GptRetry } from '../config/define.js';
import type { Database } from '../db/connection.js';
import { defineJob } from '../jobs/define.js';
import { Permanent, RetryAfter } from '../jobs/errors.js';
import { redact } from '../logging/redact.js';
import type { JobContext, JobDefinition, JobMiddleware } from '../jobs/types.js';
import { complete } from './client.js';
import { countsAgainstBreaker, GptRequestError, opensBreaker } from './errors.js';
import { gptPayloadSchema, messagesOf, type GptPayload } from './payload.js';
import {
  markFailed,
  saveAttemptFailed,
  saveSucceeded,
  type AttemptRecord,
} from './requests-store.js';
import {
  gptBreakerOptions,
  gptBreakerSettings,
  gptQueue,
  JSON_TRIES,
  type GptSettings,
} from './settings.js';
import type { BreakerSettings } from '../flow/breakers/settings.js';

export const GPT_JOB = 'gpt.complete';

/**
 * Each attempt's outcome and response time, `{ outcome: 'succeeded' | 'failed', latencyMs }`,
 * for telemetry (src/telemetry/channels.ts subscribes by this name, docs/telemetry.md).
 * Publishing with no subscriber costs nothing.
 */
export const GPT_ATTEMPT_CHANNEL = channel('jobsmith:gpt:attempt');

/** Attempts in all; a 429 or an open breaker spends none. */
export const GPT_TRIES = 5;
/** Seconds between retries of an upstream failure. */
export const GPT_BACKOFF = [2, 10, 30, 60];
/** The job's timeout beyond OPENAI_TIMEOUT: the client's own timeout fires first, and says so. */
const TIMEOUT_MARGIN_S = 1;

export interface GptJobDeps {
  /** The SQL storage, where gpt_requests lives. */
  db: () => Promise<Database>;
  settings: GptSettings;
  config?: GptConfig;
  /** The job a payload's `onResult` names, from the worker's registry. */
  jobNamed: (name: string) => Promise<JobDefinition<unknown> | undefined>;
}

/** `gpt.complete` for a worker with these settings. */
export function gptCompleteJob(deps: GptJobDeps): JobDefinition<GptPayload> {
  return defineJob<GptPayload>({
    name: GPT_JOB,
    queue: gptQueue(deps.config),
    schema: gptPayloadSchema,
    tries: GPT_TRIES,
    backoff: GPT_BACKOFF,
    timeout: deps.settings.timeoutMs / 1000 + TIMEOUT_MARGIN_S,
    breaker: { ...gptBreakerOptions(deps.config), when: countsAgainstBreaker },
    middleware: [openAtOnce(gptBreakerSettings(deps.config))],
    handle: (p, ctx) => run(deps, p, ctx),
    async failed(p, error, ctx) {
      await markFailed(await deps.db(), {
        jobId: ctx.jobId,
        queue: ctx.queue,
        model: p.model ?? deps.settings.model,
        prompt: messagesOf(p),
        error: error.message,
      });
      if (p.onFailure === undefined) return;
      const failure: GptFailure = {
        jobId: ctx.jobId,
        error: redact(error.message),
        code: (error as GptRequestError).code ?? null,
        ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
      };
      await dispatchNamed(deps, ctx, p.onFailure, failure);
    },
  });
}

async function run(deps: GptJobDeps, p: GptPayload, ctx: JobContext): Promise<GptResult> {
  // Before the request: a result nobody can receive is not worth paying for.
  const next = p.onResult === undefined ? undefined : await deps.jobNamed(p.onResult);
  if (p.onResult !== undefined && !next)
    throw new Permanent(
      `gpt.complete: onResult names the job "${p.onResult}", which this worker's config does not define.`,
    );
  for (const name of [p.onRetry, p.onFailure])
    if (name !== undefined && !(await deps.jobNamed(name)))
      throw new Permanent(
        `gpt.complete: the payload names the job "${name}", which this worker's config does not define.`,
      );
  const db = await deps.db();
  const model = p.model ?? deps.settings.model;
  const started = performance.now();
  const record = (): AttemptRecord => ({
    jobId: ctx.jobId,
    queue: ctx.queue,
    model,
    attempt: ctx.attempt,
    prompt: messagesOf(p),
    metadata: p.metadata,
    latencyMs: Math.round(performance.now() - started),
  });
  let result: GptResult;
  try {
    const completion = await complete(deps.settings, p, ctx.signal);
    result = {
      jobId: ctx.jobId,
      ...completion,
      ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
    };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    const invalidReply = err.name === 'GptInvalidReplyError';
    const attempt = record();
    const invalid = await saveAttemptFailed(db, attempt, { error: err.message, invalidReply });
    logAttempt(ctx, model, err.name, attempt.latencyMs);
    if (invalidReply && invalid >= JSON_TRIES)
      throw new GptRequestError(
        `${err.message} (${invalid} unusable replies; giving up)`,
        'invalid_reply',
      );
    // A 429 or an open breaker spends no attempt; a Permanent error is not retried.
    if (p.onRetry !== undefined && !(err instanceof Permanent) && !(err instanceof RetryAfter)) {
      const retry: GptRetry = {
        jobId: ctx.jobId,
        attempt: ctx.attempt,
        error: redact(err.message),
        invalidReply,
        ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
      };
      await dispatchNamed(deps, ctx, p.onRetry, retry);
    }
    throw error;
  }
  await saveSucceeded(db, { ...record(), latencyMs: result.latencyMs }, result);
  logAttempt(ctx, model, 'succeeded', result.latencyMs);
  await deps.config?.onResult?.(result);
  if (next) await ctx.dispatch(next, result);
  return result;
}

/**
 * Dispatches the job the payload names (onRetry, onFailure) with `payload`. A dispatch that
 * fails is logged, not thrown: the request's own outcome stands.
 */
async function dispatchNamed(
  deps: GptJobDeps,
  ctx: JobContext,
  name: string,
  payload: GptRetry | GptFailure,
): Promise<void> {
  try {
    const job = await deps.jobNamed(name);
    if (!job) throw new Error(`this worker's config does not define the job "${name}"`);
    await ctx.dispatch(job, payload);
  } catch (error) {
    ctx.log.warn(`gpt.complete: could not dispatch ${name}`, {
      jobId: ctx.jobId,
      error: (error as Error)?.message ?? String(error),
    });
  }
}

/** Each attempt's response time, for telemetry: a log line (LOG_FILE) and a channel message besides the row. */
function logAttempt(ctx: JobContext, model: string, outcome: string, latencyMs: number): void {
  GPT_ATTEMPT_CHANNEL.publish({
    outcome: outcome === 'succeeded' ? 'succeeded' : 'failed',
    latencyMs,
  });
  ctx.log.info('gpt attempt', {
    jobId: ctx.jobId,
    attempt: ctx.attempt,
    model,
    outcome,
    latencyMs,
  });
}

/**
 * A refused key or an exhausted quota fails every request alike: it opens the breaker at once
 * instead of counting once. Runs inside the breaker's own middleware, which records this
 * failure as the last of the threshold; this records the ones before it.
 */
function openAtOnce(settings: BreakerSettings): JobMiddleware<GptPayload> {
  return async function gptOpenAtOnce(ctx, next) {
    try {
      return await next();
    } catch (error) {
      if (opensBreaker(error) && ctx.flow) {
        try {
          for (let i = 1; i < settings.failures; i++) {
            const transition = await ctx.flow.store.breakers.record(settings, 'failure');
            if (transition?.to !== 'open') continue;
            ctx.flow.emit({
              type: 'breaker:opened',
              name: settings.name,
              failures: transition.failures,
              until: transition.until,
              cooldownMs: settings.cooldownMs,
              reopened: transition.reopened,
              jobId: ctx.jobId,
              error: (error as Error).message,
            });
            break;
          }
        } catch (storageError) {
          ctx.log.warn(`breaker ${settings.name}: could not open it`, {
            error: (storageError as Error)?.message,
          });
        }
      }
      throw error;
    }
  };
}
