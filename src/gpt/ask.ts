/*
 * What `run gpt:ask` does: a request through the gpt queue, waiting for a worker's answer in
 * gpt_requests, or one made directly from the shell (--now), outside the queue and its breaker.
 */
import type { App } from '../cli/app.js';
import { ConfigError, JobsmithError } from '../errors.js';
import { complete, type Completion } from './client.js';
import { GPT_JOB } from './job.js';
import type { GptPayload } from './payload.js';
import { findRequest, type RequestRow } from './requests-store.js';
import { gptSettings } from './settings.js';

/** How often the row is read while waiting, ms. */
const POLL_MS = 100;

/**
 * Stores a gpt.complete job and waits until its row is succeeded or failed.
 * @throws ConfigError when the app has no GPT job; JobsmithError when no worker finished it
 * within `waitMs`, or it failed (with the reason).
 */
export async function askThroughQueue(
  app: App,
  payload: GptPayload,
  waitMs: number,
): Promise<RequestRow> {
  const job = (await app.registry()).get(GPT_JOB);
  if (!job)
    throw new ConfigError('This app has no gpt.complete job: GPT is not set up.', {
      hint: 'Set OPENAI_API_KEY (in the environment or .env), or add a `gpt` section to the config.',
    });
  const { id } = await app.dispatcher().dispatch(job, payload);
  const db = await app.db();
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = await findRequest(db, id);
    if (row?.status === 'failed')
      throw new JobsmithError(`GPT request (job ${id}) failed: ${row.error ?? 'no reason stored'}`);
    if (row?.status === 'succeeded') return row;
    if (Date.now() >= deadline)
      throw new JobsmithError(
        `No worker finished GPT job ${id} within ${Math.round(waitMs / 1000)}s${row ? ` (it is ${row.status}, attempt ${row.attempts})` : ' (none has started it)'}.`,
        {
          hint: `Start one with \`run queue:work --queue ${job.queue}\`, or wait longer with --wait; the job stays queued.`,
        },
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Makes the request at once, with OPENAI_TIMEOUT as its only limit. */
export async function askNow(app: App, payload: GptPayload): Promise<Completion> {
  try {
    return await complete(gptSettings(app.env), payload);
  } catch (error) {
    if (error instanceof JobsmithError) throw error;
    throw new JobsmithError(`GPT request failed: ${(error as Error).message}`);
  }
}
