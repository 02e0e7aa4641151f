/*
 * One chat completion through the `openai` package, with no retries of its own: the job's tries,
 * backoff and breaker decide (`maxRetries: 0`). The package loads here on first use; one client
 * per key, base URL and timeout per process, so its connections are kept alive between jobs.
 */
import type OpenAI from 'openai';
import type { GptResult } from '../config/define.js';
import { requestFailure } from './errors.js';
import { messagesOf, type GptPayload } from './payload.js';
import { readReply } from './reply.js';
import { requireApiKey, type GptSettings } from './settings.js';

/** A reply as the job stores and returns it (GptResult without the job's own fields). */
export type Completion = Omit<GptResult, 'jobId' | 'metadata'>;

const clients = new Map<string, Promise<OpenAI>>();

/** The process's client for these settings, made (and `openai` loaded) on first use. */
export function clientFor(settings: GptSettings): Promise<OpenAI> {
  const apiKey = requireApiKey(settings);
  const key = `${apiKey}\n${settings.baseURL}\n${settings.timeoutMs}`;
  let client = clients.get(key);
  if (!client) {
    client = import('openai').then(
      ({ default: OpenAIClient }) =>
        new OpenAIClient({
          apiKey,
          baseURL: settings.baseURL,
          timeout: settings.timeoutMs,
          maxRetries: 0,
        }),
    );
    clients.set(key, client);
  }
  return client;
}

/**
 * Sends the payload's messages and reads the reply. `signal` aborts the request (the job's:
 * its timeout or the worker's shutdown); OPENAI_TIMEOUT bounds it too.
 * @throws what requestFailure makes of a failed request; GptInvalidReplyError or
 * GptRequestError (readReply) for a reply that cannot be used; `signal.reason` once aborted.
 */
export async function complete(
  settings: GptSettings,
  payload: GptPayload,
  signal?: AbortSignal,
): Promise<Completion> {
  const client = await clientFor(settings);
  const model = payload.model ?? settings.model;
  const started = performance.now();
  let response: OpenAI.Chat.Completions.ChatCompletion;
  try {
    response = await client.chat.completions.create(
      {
        model,
        messages: messagesOf(payload),
        ...(payload.response_format ? { response_format: payload.response_format } : {}),
        ...(payload.max_tokens === undefined ? {} : { max_tokens: payload.max_tokens }),
        ...(payload.temperature === undefined ? {} : { temperature: payload.temperature }),
      } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
      { signal },
    );
  } catch (error) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
    throw requestFailure(error, model, settings.baseURL, settings.timeoutMs);
  }
  const latencyMs = Math.round(performance.now() - started);
  return { ...readReply(response, payload, model), latencyMs };
}
