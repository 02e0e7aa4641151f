/*
 * What `run gpt:ask` does: a request through the gpt queue, waiting for a worker's answer in
 * gpt_requests, or one made directly from the shell (--now), outside the queue and its breaker.
 */
import type { App } from '../cli/app.js';
import { ConfigError, JobsmithError } from '../errors.js';
import { firstLine } from '../failed/present.js';
import { DatabaseFailedJobStore } from '../failed/store.js';
import { complete } from './client.js';
import { GptRateLimited, sentence } from './errors.js';
import { GPT_JOB, GPT_TRIES } from './job.js';
import type { GptPayload } from './payload.js';
import type { QueueDriver } from '../queue/driver.js';
import { formatDurationInput } from '../util/duration.js';
import { findRequest, type RequestRow } from './requests-store.js';
import { GPT_BREAKER, gptSettings } from './settings.js';

/** How often the row is read while waiting, ms. */
const POLL_MS = 100;
/** How often failed_jobs is read while waiting, ms: a job can fail there without a row. */
const FAILED_POLL_MS = 1000;

/**
 * An answer as `gpt:ask --json` prints it, the same shape either way: `jobId` and `attempts`
 * are null for --now (no job).
 */
export interface AskAnswer {
  jobId: string | null;
  model: string;
  text: string;
  finishReason: string | null;
  truncated: boolean;
  usage: { promptTokens: number | null; completionTokens: number | null };
  /** The answering attempt's request, ms. */
  latencyMs: number | null;
  attempts: number | null;
}

/**
 * Stores a gpt.complete job and waits until its row is succeeded, or the job failed.
 * @throws ConfigError when the app has no GPT job; JobsmithError when it failed (its row or its
 * failed_jobs record says why), or no worker finished it within `waitMs` (saying whether none
 * took it, the `openai` breaker holds it back, or it is being retried, with the last error).
 */
export async function askThroughQueue(
  app: App,
  payload: GptPayload,
  waitMs: number,
): Promise<AskAnswer> {
  const job = (await app.registry()).get(GPT_JOB);
  if (!job)
    throw new ConfigError('This app has no gpt.complete job: GPT is not set up.', {
      hint: 'Set OPENAI_API_KEY (in the environment or .env), or add a `gpt` section to the config.',
    });
  // A minute's margin for the worker's clock; an id reused later than that is not this job's.
  const since = Date.now() - 60_000;
  const { id } = await app.dispatcher().dispatch(job, payload);
  const db = await app.db();
  const failedJobs = new DatabaseFailedJobStore(db.knex);
  const driver = await app.queues().get(job.connection);
  const deadline = Date.now() + waitMs;
  let nextFailedLook = Date.now() + FAILED_POLL_MS;
  for (;;) {
    const row = await findRequest(db, id);
    if (row?.status === 'succeeded') return answerOf(row);
    if (row?.status === 'failed')
      throw new JobsmithError(`GPT request (job ${id}) failed: ${row.error ?? 'no reason stored'}`);
    const now = Date.now();
    if (now >= nextFailedLook || now >= deadline) {
      nextFailedLook = now + FAILED_POLL_MS;
      // A job that failed before its handler ran (a poisoned job, a worker without GPT) has no row.
      const failed = await failedJobs.findByOriginalId(driver.connection, id, since);
      if (failed)
        throw new JobsmithError(
          `GPT request (job ${id}) failed (${failed.reason}): ${firstLine(failed.exception, 500)}`,
          { hint: 'See it with `run queue:failed --name gpt.complete`.' },
        );
    }
    if (now >= deadline) throw await notFinished(driver, id, job.queue, row, waitMs);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Why a job is still waiting: the breaker holds it back, it is being retried, or nobody took it. */
async function notFinished(
  driver: QueueDriver,
  id: string,
  queue: string,
  row: RequestRow | undefined,
  waitMs: number,
): Promise<JobsmithError> {
  const head = `No answer to GPT job ${id} within ${formatDurationInput(waitMs)}`;
  const stays = 'the job stays queued';
  const breakers = await driver.flow().breakers.list();
  const breaker = breakers.find((b) => b.name === GPT_BREAKER);
  if (breaker && breaker.state !== 'closed') {
    const until = breaker.until ? ` until ${new Date(breaker.until).toISOString()}` : '';
    const last = row?.error ? `; the last error: ${row.error}` : '';
    return new JobsmithError(
      `${head}: the \`${GPT_BREAKER}\` breaker is ${breaker.state}${until}, so workers put GPT jobs back without running them${last}.`,
      {
        hint: `See why with \`run gpt:requests --status failed\` and \`run breaker:list\`; once the cause is fixed, \`run breaker:reset ${GPT_BREAKER}\`. Wait longer with --wait; ${stays}.`,
      },
    );
  }
  if (row)
    return new JobsmithError(
      `${head}: a worker took it and attempt ${row.attempts} of ${GPT_TRIES} failed: ${sentence(row.error ?? 'no reason stored')} It is retried with backoff.`,
      { hint: `Follow it with \`run gpt:requests\`, or wait longer with --wait; ${stays}.` },
    );
  return new JobsmithError(`${head}: no worker has started it.`, {
    hint: `Start one with \`run queue:work --queue ${queue}\`, or wait longer with --wait; ${stays}.`,
  });
}

function answerOf(row: RequestRow): AskAnswer {
  return {
    jobId: row.jobId,
    model: row.model,
    text: row.responseText ?? '',
    finishReason: row.finishReason,
    truncated: row.finishReason === 'length',
    usage: { promptTokens: row.promptTokens, completionTokens: row.completionTokens },
    latencyMs: row.latencyMs,
    attempts: row.attempts,
  };
}

/** Makes the request at once, with OPENAI_TIMEOUT as its only limit; a 429 is not waited out. */
export async function askNow(app: App, payload: GptPayload): Promise<AskAnswer> {
  let c;
  try {
    c = await complete(gptSettings(app.env), payload);
  } catch (error) {
    if (error instanceof GptRateLimited)
      throw new JobsmithError(
        `OpenAI rate-limited the request (${error.head}): ${sentence(error.detail)} --now does not wait or retry: try again in ${error.seconds}s, or ask through the queue, whose worker waits.`,
      );
    if (error instanceof JobsmithError) throw error;
    // errors.ts's messages name the request already.
    const message = (error as Error)?.message ?? String(error);
    throw new JobsmithError(
      (error as Error)?.name?.startsWith('Gpt') ? message : `GPT request failed: ${message}`,
    );
  }
  return {
    jobId: null,
    model: c.model,
    text: c.text,
    finishReason: c.finishReason,
    truncated: c.truncated,
    usage: c.usage,
    latencyMs: c.latencyMs,
    attempts: null,
  };
}
