/*
 * The rewriter's request: one chat completion per post, answering JSON that must match
 * REWRITE_SCHEMA ({ title, text, image_prompt }); the gpt.complete job checks the reply against
 * it and retries an unusable one (3 replies in all). image_prompt is a string when a picture
 * would help the post (the image generator, images.ts, draws it), else null.
 */
import type { GptPayload } from 'jobsmith/gpt';
import type { Post } from '../store.js';

/** Characters a title keeps. */
export const TITLE_LIMIT = 120;

/**
 * The reply's JSON schema. Structured outputs in strict mode need every property in `required`
 * (https://platform.openai.com/docs/guides/structured-outputs, "All fields must be required"):
 * an optional field is a nullable one, so image_prompt is `string | null`.
 */
export const REWRITE_SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    text: { type: 'string' },
    image_prompt: { type: ['string', 'null'] },
  },
  required: ['title', 'text', 'image_prompt'],
  additionalProperties: false,
} as const;

/** The model's reply, as REWRITE_SCHEMA has it. */
export interface RewriteReply {
  title: string;
  text: string;
  /** What to draw for the post, in English; null when a picture would not help it. */
  image_prompt: string | null;
  [field: string]: unknown;
}

/** Characters an image prompt keeps (DALL·E 3 takes 4000; the GPT image models more). */
export const IMAGE_PROMPT_LIMIT = 1000;

/** The reply's image_prompt, trimmed and cut to IMAGE_PROMPT_LIMIT; null when blank or absent. */
export function imagePromptOf(reply: Record<string, unknown> | null): string | null {
  const prompt = typeof reply?.image_prompt === 'string' ? reply.image_prompt.trim() : '';
  return prompt === '' ? null : prompt.slice(0, IMAGE_PROMPT_LIMIT);
}

/** The gpt.complete payload for a post; the three jobs named handle its outcomes. */
export function rewriteRequest(
  post: Post,
  options: { textLimit: number; maxTokens: number },
): GptPayload {
  const media =
    post.media.length > 0
      ? `\n\n[${post.media.length} attached media: ${post.media.map((m) => m.kind).join(', ')}]`
      : '';
  return {
    system:
      'You rewrite posts of Telegram channels for our own channel. Keep every fact, name and number; ' +
      'change the wording; write in the language of the post; no hashtags, no links to the source. ' +
      `Answer with JSON only: {"title": a headline of at most ${TITLE_LIMIT} characters, ` +
      `"text": the rewritten post, at most ${options.textLimit} characters, ` +
      '"image_prompt": null, or, only when a picture would really help the post (it has no ' +
      'photo of its own and is about something that can be shown), a description in English ' +
      'of that picture for an image model, with no text or logos in it}.',
    prompt: `${post.text}${media}`,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'rewritten_post', schema: { ...REWRITE_SCHEMA }, strict: true },
    },
    max_tokens: options.maxTokens,
    metadata: { postId: post.id },
    onResult: 'pipeline.rewritten',
    onRetry: 'pipeline.rewrite-retried',
    onFailure: 'pipeline.rewrite-failed',
  };
}

/**
 * `text` within `limit` characters: cut at its last whole sentence when that keeps at least half,
 * else at its last word, with an ellipsis. Returned as is when it fits.
 */
export function trimText(text: string, limit: number): string {
  const clean = text.trim();
  if (clean.length <= limit) return clean;
  const cut = clean.slice(0, limit);
  const sentence = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('! '), cut.lastIndexOf('? '));
  if (sentence >= limit / 2) return cut.slice(0, sentence + 1);
  const word = cut.slice(0, limit - 1).lastIndexOf(' ');
  return `${cut.slice(0, word > 0 ? word : limit - 1).trimEnd()}…`;
}
