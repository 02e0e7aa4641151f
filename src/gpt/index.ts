/*
 * The public GPT entry point, `jobsmith/gpt`: the job's definition and `askGpt`, which stores a
 * request from application code. Kept off `jobsmith` itself so an app without GPT never loads
 * it; `openai` is not loaded here: workers make the requests.
 */
import { defineJob } from '../jobs/define.js';
import { InvalidPayloadError, Permanent } from '../jobs/errors.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';
import { dispatch, sharedApp } from '../queue/client.js';
import { gptPayloadSchema, PAYLOAD_FIELDS, type GptPayload } from './payload.js';
import { DEFAULT_GPT_QUEUE, gptQueue } from './settings.js';

export type { GptPayload } from './payload.js';
export type { GptConfig, GptFailure, GptResult, GptRetry } from '../config/define.js';
export {
  GptInvalidReplyError,
  GptRefusedError,
  GptRequestError,
  GptUpstreamError,
} from './errors.js';
// For apps calling other OpenAI endpoints through the `openai` package (images, embeddings)
// under the same `openai` breaker: the same classification of a failed request.
export { countsAgainstBreaker, requestFailure } from './errors.js';
export { GPT_BREAKER, GPT_BREAKER_DEFAULTS } from './settings.js';

/**
 * The `gpt.complete` job, for `dispatch(gptComplete, { prompt: 'Hi' })`. It goes to the queue
 * `gpt` unless `queue` says otherwise (askGpt uses the config's `gpt.queue`). Workers run their
 * own definition, built from the config and the OPENAI_* settings.
 */
export const gptComplete: JobDefinition<GptPayload> = defineJob<GptPayload>({
  name: 'gpt.complete',
  queue: DEFAULT_GPT_QUEUE,
  schema: gptPayloadSchema,
  handle() {
    throw new Permanent(
      'gpt.complete runs on a worker whose config has a `gpt` section or whose environment sets OPENAI_API_KEY (run queue:work --queue gpt).',
    );
  },
});

/** What askGpt takes besides the prompt: the payload's other fields and the dispatch's options. */
export type AskGptOptions = Omit<GptPayload, 'prompt' | 'messages'> & DispatchOptions;

/**
 * Stores a `gpt.complete` job for `request` (a prompt, or the messages) on the config's
 * `gpt.queue` (default `gpt`), and resolves with the job (its id). A worker makes the request;
 * the result lands in gpt_requests, in the config's `gpt.onResult` hook and in the job named by
 * `onResult`, which is dispatched with it (GptResult).
 * @throws InvalidPayloadError for a bad field, naming it.
 * @example
 * ```ts
 * await askGpt('Summarise: ...', { onResult: 'summary.save', metadata: { postId: 7 } });
 * ```
 */
export async function askGpt(
  request: string | GptPayload['messages'],
  options: AskGptOptions = {},
): Promise<DispatchResult> {
  const payload: Record<string, unknown> =
    typeof request === 'string' ? { prompt: request } : { messages: request };
  const dispatchOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    (PAYLOAD_FIELDS.has(key) ? payload : dispatchOptions)[key] = value;
  }
  const checked = gptPayloadSchema.safeParse(payload);
  if (!checked.success)
    throw new InvalidPayloadError(
      `askGpt: ${checked.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}`,
    );
  const app = await sharedApp();
  const queue =
    (dispatchOptions.queue as string | undefined) ?? gptQueue((await app.config()).config.gpt);
  return dispatch(gptComplete, checked.data, { ...(dispatchOptions as DispatchOptions), queue });
}
