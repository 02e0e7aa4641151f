/**
 * What the fake OpenAI server answers: the programmable replies, and the bodies OpenAI sends
 * for each (https://platform.openai.com/docs/guides/error-codes, the chat completion object).
 */

/** A reply the fake can be told to give. */
export type Reply =
  /** 200: `text`, or an echo of the last user message (as JSON when JSON was asked). */
  | { kind: 'success'; text?: string }
  /** 200 with this value as the reply's JSON text. */
  | { kind: 'json'; value: unknown }
  /** 200 whose text is not JSON. */
  | { kind: 'invalid-json'; text?: string }
  /** 200 with finish_reason "length": the text cut at max_tokens. */
  | { kind: 'length'; text?: string }
  /** 429 rate_limit_exceeded with a retry-after header (seconds). */
  | { kind: 'rate-limit'; retryAfter?: number }
  /** 429 insufficient_quota. */
  | { kind: 'insufficient-quota' }
  /** 401 invalid_api_key. */
  | { kind: 'unauthorized' }
  /** 403. */
  | { kind: 'forbidden' }
  /** 500 (or another 5xx). */
  | { kind: 'server-error'; status?: number }
  /** Waits `delayMs` before answering with `then` (default: success). */
  | { kind: 'slow'; delayMs: number; then?: Reply }
  /** 400 context_length_exceeded with the counts. */
  | { kind: 'context-length'; max?: number; tokens?: number }
  /** The socket is destroyed without an answer (a network error). */
  | { kind: 'reset' };

export interface ChatRequest {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  response_format?: { type: string };
  max_tokens?: number;
}

/** An HTTP answer: status, headers and JSON body. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
) {
  return { error: { message, type, param, code } };
}

let counter = 0;

function completion(
  request: ChatRequest,
  content: string,
  finishReason: 'stop' | 'length',
): Answer {
  // A reply cut at max_tokens spent them all.
  const spent =
    finishReason === 'length' && request.max_tokens !== undefined
      ? request.max_tokens
      : words(content);
  const prompt = (request.messages ?? []).map((m) => m.content).join(' ');
  counter += 1;
  return {
    status: 200,
    body: {
      id: `chatcmpl-fake${counter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? 'fake-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: words(prompt),
        completion_tokens: spent,
        total_tokens: words(prompt) + spent,
      },
    },
  };
}

/** The answer to `request` for a reply that is not `slow` or `reset`. */
export function answer(request: ChatRequest, reply: Reply, apiKey: string): Answer {
  const last = [...(request.messages ?? [])].reverse().find((m) => m.role === 'user');
  const asksJson = request.response_format?.type?.startsWith('json') ?? false;
  switch (reply.kind) {
    case 'success': {
      const echo = `echo: ${last?.content ?? ''}`;
      const text = reply.text ?? (asksJson ? JSON.stringify({ echo }) : echo);
      return completion(request, text, 'stop');
    }
    case 'json':
      return completion(request, JSON.stringify(reply.value), 'stop');
    case 'invalid-json':
      return completion(request, reply.text ?? 'Sure! Here is the JSON: {"echo": ', 'stop');
    case 'length': {
      const text = reply.text ?? 'The first sentence is whole. The second one is cut in the mid';
      return completion(request, text, 'length');
    }
    case 'rate-limit':
      return {
        status: 429,
        headers: { 'retry-after': String(reply.retryAfter ?? 1) },
        body: errorBody(
          `Rate limit reached for ${request.model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${reply.retryAfter ?? 1}s.`,
          'requests',
          'rate_limit_exceeded',
        ),
      };
    case 'insufficient-quota':
      return {
        status: 429,
        body: errorBody(
          'You exceeded your current quota, please check your plan and billing details.',
          'insufficient_quota',
          'insufficient_quota',
        ),
      };
    case 'unauthorized':
      return {
        status: 401,
        body: errorBody(
          `Incorrect API key provided: ${apiKey}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          'invalid_request_error',
          'invalid_api_key',
        ),
      };
    case 'forbidden':
      return {
        status: 403,
        body: errorBody(
          'Country, region, or territory not supported',
          'request_forbidden',
          'unsupported_country_region_territory',
        ),
      };
    case 'server-error':
      return {
        status: reply.status ?? 500,
        body: errorBody(
          'The server had an error while processing your request. Sorry about that!',
          'server_error',
          null,
        ),
      };
    case 'context-length': {
      const max = reply.max ?? 8192;
      const tokens = reply.tokens ?? 10_000;
      return {
        status: 400,
        body: errorBody(
          `This model's maximum context length is ${max} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      };
    }
    default:
      throw new Error(`fake OpenAI: no plain answer for ${reply.kind}`);
  }
}
