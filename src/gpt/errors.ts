/*
 * What a failed request means (docs/gpt.md, "Errors"), and the errors a GPT job fails with.
 * The openai client's errors are recognised by shape (status, headers, the class name), so this
 * file does not load it.
 *
 * | the server answered               | the job                                    | breaker |
 * | --------------------------------- | ------------------------------------------ | ------- |
 * | 429 (rate limit)                  | RetryAfter(retry-after): no attempt spent  | no      |
 * | 429 insufficient_quota, 401, 403  | fails at once (GptRefusedError)            | opens   |
 * | 400 context_length_exceeded       | fails at once, with the token counts       | no      |
 * | any other 4xx                     | fails at once (GptRequestError)            | no      |
 * | 5xx, 408, 409, timeout, network   | retried with backoff (GptUpstreamError)    | counts  |
 */
import { formatDurationInput } from '../util/duration.js';
import { Permanent, RetryAfter } from '../jobs/errors.js';
import { redact } from '../logging/redact.js';

/** Retry-after when a 429 names none, in seconds. */
export const DEFAULT_RETRY_AFTER_S = 5;

/** The API refused the account: a bad key, no permission, no quota. Opens the breaker at once. */
export class GptRefusedError extends Permanent {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'GptRefusedError';
  }
}

/**
 * Why a request failed for good, when the app may want to tell the cases apart (GptFailure.code):
 * the prompt is over the model's context, the reply was cut at max_tokens, the reply was
 * withheld, or every reply was unusable.
 */
export type GptFailureCode =
  'context_length_exceeded' | 'truncated' | 'content_filter' | 'invalid_reply';

/** The API refused this request (a 4xx, the context too long), or its reply cannot be used. */
export class GptRequestError extends Permanent {
  constructor(
    message: string,
    /** Set for the failures GptFailureCode names. */
    readonly code?: GptFailureCode,
  ) {
    super(message);
    this.name = 'GptRequestError';
  }
}

/** The upstream failed: a 5xx, a timeout, the network. Retried; counts against the breaker. */
export class GptUpstreamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GptUpstreamError';
  }
}

/** A reply that must be JSON does not parse, or misses its schema. Retried (JSON_TRIES in all). */
export class GptInvalidReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GptInvalidReplyError';
  }
}

/** Whether an error counts against the `openai` breaker (by name: a config may hold a copy). */
export function countsAgainstBreaker(error: Error): boolean {
  return ['GptUpstreamError', 'GptRefusedError', 'JobTimeoutError'].includes(error.name);
}

/** Whether an error opens the breaker at once rather than counting once. */
export function opensBreaker(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'GptRefusedError';
}

interface ApiErrorShape {
  status?: number;
  headers?: { get(name: string): string | null };
  code?: string | null;
  type?: string;
  message?: string;
  error?: { message?: string; code?: string; type?: string };
  cause?: unknown;
}

/** A cause chain link as Node's fetch (undici) nests them: `fetch failed`, then the socket's error. */
interface CauseShape {
  message?: string;
  code?: string;
  cause?: unknown;
}

/**
 * A 429 that asks to wait: the worker puts the job back for `seconds` (RetryAfter); `head` and
 * `detail` say what happened without the wait, for a caller that does not retry (`gpt:ask --now`).
 */
export class GptRateLimited extends RetryAfter {
  constructor(
    seconds: number,
    /** `429 rate_limit_exceeded` */
    readonly head: string,
    /** The server's message. */
    readonly detail: string,
  ) {
    super(seconds, `GPT rate limit (${head}), waiting ${seconds}s: ${detail}`);
  }
}

/**
 * The error a failed request becomes: RetryAfter (GptRateLimited), GptRefusedError,
 * GptRequestError or GptUpstreamError. `model` names the model in messages; `baseURL`
 * (OPENAI_BASE_URL) names the server one that could not be reached, or that answered 404 to a
 * base URL without its `/v1`; `timeoutMs` (OPENAI_TIMEOUT) is named when a request timed out.
 */
export function requestFailure(
  error: unknown,
  model: string,
  baseURL?: string,
  timeoutMs?: number,
): Error {
  const e = (error ?? {}) as ApiErrorShape;
  const kind = (error as object | null)?.constructor?.name ?? '';
  const detail = redact(e.error?.message ?? e.message ?? String(error));
  if (kind === 'APIConnectionTimeoutError')
    return new GptUpstreamError(
      `GPT request to ${model} timed out: ${detail}` +
        (timeoutMs === undefined
          ? ''
          : ` OPENAI_TIMEOUT is ${formatDurationInput(timeoutMs)} per attempt; raise it for long answers.`),
    );
  if (kind === 'APIConnectionError')
    return new GptUpstreamError(
      `GPT request to ${model} could not connect to ${hostOf(baseURL)}: ${redact(socketCause(e.cause) ?? detail)}. Check OPENAI_BASE_URL (${baseURL ?? 'unset'}) and that the server there is up.`,
    );
  if (typeof e.status !== 'number')
    return new GptUpstreamError(`GPT request to ${model} failed: ${detail}`, { cause: error });
  const status = e.status;
  const code = e.code ?? e.error?.code ?? e.type ?? e.error?.type ?? undefined;
  const head = `${status}${code ? ` ${code}` : ''}`;
  if (status === 429 && code === 'insufficient_quota')
    return new GptRefusedError(
      `OpenAI refused the request for want of quota (${head}): ${sentence(detail)} Check the plan and billing of the account whose key is OPENAI_API_KEY.`,
      status,
    );
  if (status === 429) {
    const seconds = retryAfterSeconds(e.headers) ?? DEFAULT_RETRY_AFTER_S;
    return new GptRateLimited(seconds, head, detail);
  }
  if (status === 401 || status === 403)
    return new GptRefusedError(
      `OpenAI refused the key (${head}): ${sentence(detail)} Check OPENAI_API_KEY${status === 403 ? ', and that its project may use the model and region' : ''}.`,
      status,
    );
  if (code === 'context_length_exceeded')
    return new GptRequestError(contextMessage(detail, model), 'context_length_exceeded');
  if (status >= 500 || status === 408 || status === 409)
    return new GptUpstreamError(`GPT request to ${model} failed (${head}): ${detail}`);
  // OpenAI's paths start with /v1; a base URL without it gets "Unknown request URL" (404).
  const noV1 =
    status === 404 && baseURL !== undefined && !/\/v1\/?$/.test(baseURL.replace(/[?#].*$/, ''));
  return new GptRequestError(
    `GPT request to ${model} was refused (${head}): ${detail}` +
      (noV1
        ? ` OPENAI_BASE_URL (${baseURL}) does not end in /v1, as OpenAI-compatible servers expect (https://api.openai.com/v1): add it.`
        : ''),
  );
}

/** A message as a sentence: a full stop added unless it ends with one. */
export function sentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

/** `host:port` of OPENAI_BASE_URL, the port filled in from the scheme. */
function hostOf(baseURL: string | undefined): string {
  try {
    const url = new URL(baseURL ?? '');
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return 'the server';
  }
}

/**
 * Why the socket failed, from the client's cause chain (`fetch failed`, then the socket's
 * error): `ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)`, or the deepest message.
 */
function socketCause(cause: unknown): string | undefined {
  let deepest: string | undefined;
  for (let c = cause as CauseShape | undefined, i = 0; c && i < 5; c = c.cause as CauseShape, i++) {
    if (c.code) return c.message?.includes(c.code) ? `${c.code} (${c.message})` : c.code;
    if (c.message) deepest = c.message;
  }
  return deepest;
}

/**
 * "context_length_exceeded" with the counts the server gave: OpenAI says "This model's maximum
 * context length is 8192 tokens. However, your messages resulted in 10000 tokens...".
 */
function contextMessage(detail: string, model: string): string {
  const numbers = [...detail.matchAll(/(\d[\d,]*) tokens/g)].map((m) => m[1]!.replace(/,/g, ''));
  const counts =
    numbers.length >= 2
      ? `the request has ${numbers[1]} tokens, ${model} takes at most ${numbers[0]}`
      : detail;
  return `context_length_exceeded: ${counts}. Shorten the messages or lower max_tokens (server: ${detail})`;
}

/** Seconds a 429 asks to wait: retry-after-ms, else retry-after (seconds or an HTTP date). */
export function retryAfterSeconds(headers: ApiErrorShape['headers']): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const text = headers?.get('retry-after');
  if (!text) return undefined;
  const seconds = Number.parseFloat(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : undefined;
}
