/*
 * The rewriter's request: one chat completion per post, answering JSON that must match
 * REWRITE_SCHEMA ({ title, text }); the gpt.complete job checks the reply against it and retries
 * an unusable one (3 replies in all).
 */
import type { GptPayload } from 'jobsmith/gpt';
import type { Post } from '../store.js';

/** Characters a title keeps. */
export const TITLE_LIMIT = 120;

export const REWRITE_SCHEMA = {
  type: 'object',
  properties: { title: { type: 'string' }, text: { type: 'string' } },
  required: ['title', 'text'],
  additionalProperties: false,
} as const;

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
      `"text": the rewritten post, at most ${options.textLimit} characters}.`,
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
