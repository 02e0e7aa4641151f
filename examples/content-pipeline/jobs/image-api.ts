/*
 * One image from OpenAI's image endpoint (`images.generate` of the `openai` package), for the
 * image generator (images.ts). The client retries nothing (`maxRetries: 0`): the job's tries,
 * backoff and the shared `openai` breaker decide, as for jobsmith's own gpt.complete, and a
 * failed request is classified the same way (jobsmith/gpt's requestFailure):
 *
 *   429 rate limit                 RetryAfter(retry-after): no attempt spent
 *   429 insufficient_quota, 401,   Permanent (GptRefusedError): no retry; counts against the
 *   403                            breaker
 *   other 4xx (moderation...)      Permanent (GptRequestError)
 *   5xx, timeout, network          retried with backoff (GptUpstreamError); counts
 */
import { createRequire } from 'node:module';
import type OpenAI from 'openai';
import { GptUpstreamError, requestFailure } from 'jobsmith/gpt';
import type { ImageSize } from '../settings.js';

// Node's require, not `import`: the config loads through jiti, which would transpile the
// `openai` package again on every start (env.ts, store/db.ts do the same). Loaded on first use.
const nodeRequire = createRequire(import.meta.url);

export interface ImageRequest {
  prompt: string;
  /** PIPELINE_IMAGE_MODEL. */
  model: string;
  size: ImageSize;
  /** OPENAI_API_KEY, OPENAI_BASE_URL (the API's root, `/v1` included). */
  apiKey: string;
  baseURL?: string;
  /** One request's limit, ms (PIPELINE_OPENAI_TIMEOUT). */
  timeoutMs: number;
  /** The job's signal: its timeout, the worker's shutdown. */
  signal?: AbortSignal;
}

export interface GeneratedImage {
  /** The image file's bytes. */
  bytes: Buffer;
  /** Its extension: the format OpenAI names (png, jpeg, webp), png when it names none. */
  extension: string;
  /** The prompt as the model rewrote it, when it says (DALL·E 3). */
  revisedPrompt?: string;
}

const clients = new Map<string, OpenAI>();

function clientFor(request: ImageRequest): OpenAI {
  const key = `${request.apiKey}\n${request.baseURL ?? ''}\n${request.timeoutMs}`;
  let client = clients.get(key);
  if (!client) {
    const OpenAIClient = (nodeRequire('openai') as { default: typeof OpenAI }).default;
    client = new OpenAIClient({
      apiKey: request.apiKey,
      ...(request.baseURL ? { baseURL: request.baseURL } : {}),
      timeout: request.timeoutMs,
      maxRetries: 0,
    });
    clients.set(key, client);
  }
  return client;
}

/**
 * Asks for one image and returns its bytes (from `b64_json`, or downloaded from `url`).
 * @throws RetryAfter, GptRefusedError, GptRequestError or GptUpstreamError (above) for a failed
 * request; GptUpstreamError for a reply without an image or a download that fails;
 * `signal.reason` once aborted.
 */
export async function generateImage(request: ImageRequest): Promise<GeneratedImage> {
  const client = clientFor(request);
  // The DALL·E models answer a URL unless asked for b64_json; the GPT image models only answer
  // b64_json and refuse the parameter.
  const dalle = request.model.startsWith('dall-e');
  let response: OpenAI.Images.ImagesResponse;
  try {
    response = await client.images.generate(
      {
        model: request.model,
        prompt: request.prompt,
        n: 1,
        size: request.size,
        ...(dalle ? { response_format: 'b64_json' as const } : {}),
      },
      { signal: request.signal },
    );
  } catch (error) {
    if (request.signal?.aborted)
      throw request.signal.reason instanceof Error ? request.signal.reason : error;
    throw requestFailure(error, request.model, request.baseURL);
  }
  const image = response.data?.[0];
  const extension = response.output_format === 'jpeg' ? 'jpg' : (response.output_format ?? 'png');
  const revised = image?.revised_prompt ? { revisedPrompt: image.revised_prompt } : {};
  if (image?.b64_json)
    return { bytes: Buffer.from(image.b64_json, 'base64'), extension, ...revised };
  if (image?.url) return { bytes: await download(image.url, request), extension, ...revised };
  throw upstream(`the reply of ${request.model} holds no image (no b64_json, no url)`);
}

async function download(url: string, request: ImageRequest): Promise<Buffer> {
  const signals = [AbortSignal.timeout(request.timeoutMs)];
  if (request.signal) signals.push(request.signal);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.any(signals) });
  } catch (error) {
    if (request.signal?.aborted)
      throw request.signal.reason instanceof Error ? request.signal.reason : error;
    throw upstream(`downloading the image of ${request.model} failed: ${(error as Error).message}`);
  }
  if (!response.ok)
    throw upstream(`downloading the image of ${request.model} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** An upstream failure: retried, and counted by the breaker (countsAgainstBreaker). */
function upstream(message: string): Error {
  return new GptUpstreamError(`Image request failed: ${message}`);
}
