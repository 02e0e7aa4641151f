/*
 * What a chat completion's reply gives the job: its text, its JSON when the payload asked for
 * JSON, or the reason it cannot be used. A reply cut at max_tokens fails ("truncated") unless the
 * payload says `onLength: 'trim'`; a reply that must be JSON and does not parse, or misses its
 * schema, is retried (GptInvalidReplyError), since another sample may well be valid.
 */
import type { GptResult } from '../config/define.js';
import { GptInvalidReplyError, GptRequestError } from './errors.js';
import { schemaProblem } from './json-check.js';
import { wantsJson, type GptPayload } from './payload.js';

/** The fields of a completion readReply uses. */
export interface ReplyShape {
  model?: string;
  choices: Array<{ finish_reason: string | null; message: { content?: string | null } }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

export function readReply(
  response: ReplyShape,
  payload: GptPayload,
  model: string,
): Omit<GptResult, 'jobId' | 'metadata' | 'latencyMs'> {
  const choice = response.choices[0];
  if (!choice) throw new GptInvalidReplyError(`${model} answered with no choice.`);
  const usage = {
    promptTokens: response.usage?.prompt_tokens ?? null,
    completionTokens: response.usage?.completion_tokens ?? null,
  };
  const finishReason = choice.finish_reason ?? 'stop';
  let text = choice.message.content ?? '';
  const truncated = finishReason === 'length';
  if (finishReason === 'content_filter')
    throw new GptRequestError(
      `${model} withheld its reply (finish_reason content_filter).`,
      'content_filter',
    );
  if (truncated) {
    const limit = payload.max_tokens === undefined ? '' : ` of ${payload.max_tokens}`;
    const spent = `${usage.completionTokens ?? '?'} completion tokens${limit}`;
    if (payload.onLength !== 'trim' || wantsJson(payload))
      throw new GptRequestError(
        `truncated: the reply of ${model} was cut at max_tokens (${spent}). Raise max_tokens (gpt:ask --max-tokens)${wantsJson(payload) ? '' : ", or pass onLength: 'trim' in the payload to keep it"}.`,
        'truncated',
      );
    text = trimReply(text, payload.trimTo);
  }
  const base = { model: response.model ?? model, text, finishReason, truncated, usage };
  if (!wantsJson(payload)) return base;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GptInvalidReplyError(
      `the reply of ${model} is not valid JSON (${(error as Error).message}): ${preview(text)}`,
    );
  }
  const format = payload.response_format;
  if (format?.type !== 'json_schema' || format.json_schema.schema === undefined)
    return { ...base, json };
  const problem = schemaProblem(json, format.json_schema.schema);
  if (problem)
    throw new GptInvalidReplyError(
      `the reply of ${model} does not match the schema ${format.json_schema.name}: ${problem}`,
    );
  return { ...base, json };
}

/**
 * A truncated reply cut back to its last whole sentence (or word), within `max` characters
 * when given: the half-sentence the token limit left is dropped.
 */
export function trimReply(text: string, max?: number): string {
  const cut = max === undefined ? text : text.slice(0, max);
  const sentence = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('! '), cut.lastIndexOf('? '));
  const end = /[.!?]$/.test(cut) ? cut.length : sentence >= 0 ? sentence + 1 : -1;
  if (end > 0) return cut.slice(0, end).trimEnd();
  const word = cut.lastIndexOf(' ');
  return (word > 0 ? cut.slice(0, word) : cut).trimEnd();
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}...` : flat);
}
