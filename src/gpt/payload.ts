/*
 * The `gpt.complete` payload, checked at dispatch and again when the job runs. The fields the
 * API takes keep the API's names (messages, response_format, max_tokens); the others say what
 * jobsmith does with the reply.
 */
import { z } from 'zod';
import { isJobName, JOB_NAME_HELP } from '../jobs/limits.js';

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.string(),
  name: z.string().optional(),
});

/**
 * `response_format` as the chat completions API takes it. With `json_schema`, the reply is
 * also checked against `json_schema.schema` here (the subset json-check.ts reads), since an
 * OpenAI-compatible server may not enforce it.
 */
const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)'),
      description: z.string().optional(),
      schema: z.record(z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

const payloadObject = z.object({
  /** The model; OPENAI_MODEL when absent. */
  model: z.string().min(1).max(190).optional(),
  /** The conversation, as the API takes it. Give this or `prompt`. */
  messages: z.array(message).min(1).optional(),
  /** One user message; `system` goes before it. Give this or `messages`. */
  prompt: z.string().min(1).optional(),
  system: z.string().optional(),
  response_format: responseFormat.optional(),
  /** The most tokens the reply may have. */
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /**
   * A reply cut at max_tokens (`finish_reason: "length"`): `fail` fails the job ("truncated");
   * `trim` keeps it, cut back to its last whole sentence and to `trimTo` characters.
   * @defaultValue 'fail'
   */
  onLength: z.enum(['fail', 'trim']).optional(),
  /** With `onLength: 'trim'`: the most characters kept. */
  trimTo: z.number().int().min(1).optional(),
  /** A job to dispatch with the result ({ ...GptResult }), by name. */
  onResult: z
    .string()
    .refine(isJobName, { message: `a job name: ${JOB_NAME_HELP}` })
    .optional(),
  /**
   * A job to dispatch, by name, after an attempt that failed with an error the job retries (an
   * unusable reply, an upstream failure, a timeout), with a GptRetry. A 429 or an open breaker
   * spends no attempt and dispatches nothing. When that attempt was the last try, `onFailure`
   * follows.
   */
  onRetry: z
    .string()
    .refine(isJobName, { message: `a job name: ${JOB_NAME_HELP}` })
    .optional(),
  /** A job to dispatch, by name, once the request has finally failed, with a GptFailure. */
  onFailure: z
    .string()
    .refine(isJobName, { message: `a job name: ${JOB_NAME_HELP}` })
    .optional(),
  /** Anything the app wants back with the result; stored with the request. */
  metadata: z.record(z.unknown()).optional(),
});

/** The payload's fields, by name. */
export const PAYLOAD_FIELDS: ReadonlySet<string> = new Set(Object.keys(payloadObject.shape));

export const gptPayloadSchema = payloadObject
  .refine((p) => (p.messages === undefined) !== (p.prompt === undefined), {
    message: 'give either messages or prompt (one of them, not both)',
    path: ['messages'],
  })
  .refine((p) => p.system === undefined || p.prompt !== undefined, {
    message: 'system goes with prompt; with messages, make it the first message',
    path: ['system'],
  });

export type GptPayload = z.infer<typeof gptPayloadSchema>;
export type ChatMessage = z.infer<typeof message>;

/** The messages the API is sent. */
export function messagesOf(p: GptPayload): ChatMessage[] {
  if (p.messages) return p.messages;
  const list: ChatMessage[] = [];
  if (p.system !== undefined) list.push({ role: 'system', content: p.system });
  list.push({ role: 'user', content: p.prompt! });
  return list;
}

/** Whether the reply must be JSON. */
export function wantsJson(p: GptPayload): boolean {
  const type = p.response_format?.type;
  return type === 'json_object' || type === 'json_schema';
}
