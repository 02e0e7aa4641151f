/*
 * The rewriter: pipeline.rewrite asks the model once per post (a gpt.complete job on the rewrite
 * queue); the gpt.complete job's outcomes come back as three jobs:
 *
 *   pipeline.rewritten        the reply ({ title, text, image_prompt }, text trimmed to
 *                             PIPELINE_TEXT_LIMIT) is stored and the post handed on (next.ts)
 *   pipeline.rewrite-retried  an unusable reply is being asked again: the admin is told
 *   pipeline.rewrite-failed   the request failed for good (over the token limit, 3 unusable
 *                             replies...): the post is marked failed and the admin told why
 */
import { defineJob, Permanent, type JobContext } from 'jobsmith';
import { markPostCancelled } from './cancelled.js';
import { gptComplete, type GptFailure, type GptResult, type GptRetry } from 'jobsmith/gpt';
import { z } from 'zod';
import { notifyAdmin } from '../notify.js';
import { QUEUES, settings } from '../settings.js';
import { pipelineStore, type Post } from '../store.js';
import { afterRewrite } from './next.js';
import {
  imagePromptOf,
  rewriteRequest,
  TITLE_LIMIT,
  trimText,
  type RewriteReply,
} from './prompt.js';

/** A rewrite job stays unique per post this long (seconds): a collector's retry adds none. */
const UNIQUE_FOR_S = 3600;

export const rewrite = defineJob({
  name: 'pipeline.rewrite',
  queue: QUEUES.rewrite,
  schema: z.object({ postId: z.number().int().positive() }),
  // Held while the job is queued or running (a finished job frees it): `run pipeline:republish`
  // of a post whose rewrite failed dispatches a new one.
  unique: { key: (p) => `pipeline.rewrite:${p.postId}`, for: UNIQUE_FOR_S },
  // The dashboard and `run queue:history --tag post:ID` find a post's jobs by this tag.
  tags: (p) => [`post:${p.postId}`],
  middleware: [markPostCancelled()],
  async handle({ postId }, ctx) {
    const store = await pipelineStore();
    const started = await store.posts.update(
      postId,
      { status: 'in_progress' },
      { whenStatus: ['queued'], whenStage: ['collected'] },
    );
    const post = await store.posts.find(postId);
    if (!post) throw new Permanent(`Post ${postId} is not in pipeline_posts: nothing to rewrite.`);
    // A retry of this job after its request went out finds the post in progress: ask again
    // (at worst one request twice); a post already rewritten, failed or cancelled is left alone.
    if (!started && !(post.status === 'in_progress' && post.stage === 'collected')) {
      ctx.log.info(`pipeline: post ${postId} is ${post.status}/${post.stage}; not rewriting it`);
      return { skipped: true };
    }
    if (post.text.trim() === '') {
      // Media without a caption: nothing to rewrite.
      await stored(ctx, post, { title: '', text: '', image_prompt: null });
      return { skipped: false, request: null };
    }
    const { textLimit, maxTokens } = settings();
    const request = rewriteRequest(post, { textLimit, maxTokens });
    const { id } = await ctx.dispatch(gptComplete, request, {
      queue: QUEUES.rewrite,
      tags: [`post:${postId}`],
    });
    return { skipped: false, request: id };
  },
  async failed({ postId }, error, ctx) {
    await failPost(ctx, postId, `rewriting failed: ${error.message}`);
  },
});

/** The model's reply: stored, trimmed to the limit, and the post handed on. */
export const rewritten = defineJob<GptResult>({
  name: 'pipeline.rewritten',
  queue: QUEUES.rewrite,
  async handle(result, ctx) {
    const postId = postIdOf(result.metadata);
    const reply = result.json as RewriteReply;
    const text = trimText(reply.text, settings().textLimit);
    if (text.length < reply.text.trim().length)
      ctx.log.info(
        `pipeline: post ${postId}: the rewrite had ${reply.text.trim().length} characters; trimmed to ${text.length}`,
      );
    const store = await pipelineStore();
    const post = await store.posts.find(postId);
    if (!post) throw new Permanent(`Post ${postId} is not in pipeline_posts any more.`);
    await stored(ctx, post, {
      title: trimText(reply.title, TITLE_LIMIT),
      text,
      image_prompt: imagePromptOf(reply),
    });
  },
});

/** An attempt failed and is tried again: an unusable reply is worth telling the admin. */
export const rewriteRetried = defineJob<GptRetry>({
  name: 'pipeline.rewrite-retried',
  queue: QUEUES.rewrite,
  async handle(retry, ctx) {
    const postId = postIdOf(retry.metadata);
    if (!retry.invalidReply) {
      ctx.log.warn(
        `pipeline: post ${postId}: rewrite attempt ${retry.attempt} failed, retrying: ${retry.error}`,
      );
      return;
    }
    await notifyAdmin(
      ctx,
      `Post ${postId}: retrying the rewrite because of a generation error (attempt ${retry.attempt} of ${settings().tries.rewrite}): ${retry.error}`,
    );
  },
});

/** The request failed for good: the post is failed, with the reason. */
export const rewriteFailed = defineJob<GptFailure>({
  name: 'pipeline.rewrite-failed',
  queue: QUEUES.rewrite,
  async handle(failure, ctx) {
    const postId = postIdOf(failure.metadata);
    const overLimit = failure.code === 'context_length_exceeded' || failure.code === 'truncated';
    const reason = overLimit
      ? `over the model's token limit: ${failure.error}`
      : `rewriting failed: ${failure.error}`;
    await failPost(ctx, postId, reason);
  },
});

/** Every job of the rewriter, for the config. */
export const rewriterJobs = [rewrite, rewritten, rewriteRetried, rewriteFailed];

async function stored(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  post: Post,
  reply: RewriteReply,
): Promise<void> {
  const store = await pipelineStore();
  const changed = await store.posts.update(
    post.id,
    { stage: 'rewritten', rewritten: reply },
    { whenStatus: ['in_progress'], whenStage: ['collected'] },
  );
  // A second delivery of the same result: the first one handed the post on.
  if (!changed) return;
  await afterRewrite(ctx, (await store.posts.find(post.id))!);
}

async function failPost(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  postId: number,
  reason: string,
): Promise<void> {
  const store = await pipelineStore();
  const post = await store.posts.find(postId);
  // Told once: a second delivery of the same failure finds the post failed already.
  if (post?.status === 'failed') return;
  if (!(await store.posts.markFailed(postId, reason))) return;
  const where = post ? ` (${post.channel}, message ${post.messageId})` : '';
  await notifyAdmin(ctx, `Post ${postId}${where} failed: ${reason}`, 'error');
}

function postIdOf(metadata: Record<string, unknown> | undefined): number {
  const id = Number(metadata?.postId);
  if (!Number.isInteger(id) || id < 1)
    throw new Permanent(
      `The GPT result carries no post id (metadata ${JSON.stringify(metadata)}).`,
    );
  return id;
}
