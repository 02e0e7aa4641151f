/*
 * Where a post goes once it is rewritten: to the image generator (images.ts) when the rewrite
 * asks for a picture, and from there, or straight away, to the publisher (publish.ts).
 */
import type { JobContext } from 'jobsmith';
import type { Post } from '../store.js';
import { postImage } from './images.js';
import { imagePromptOf } from './prompt.js';
import { queuePublication } from './publish.js';

/** Called once per post, by pipeline.rewritten, after the post's stage became `rewritten`. */
export async function afterRewrite(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  post: Post,
): Promise<void> {
  // Images: a rewrite that asks for a picture (image_prompt) gets one first; the image job
  // (images.ts) hands the post on through afterImage, with or without the image.
  if (imagePromptOf(post.rewritten) !== null) {
    await ctx.dispatch(postImage, { postId: post.id });
    ctx.log.info(`pipeline: post ${post.id} rewritten; its image is queued`, { postId: post.id });
    return;
  }
  ctx.log.info(`pipeline: post ${post.id} rewritten`, { postId: post.id });
  await queuePublication(ctx, post.id);
}

/**
 * Called once per post by pipeline.image when it is done: with its image attached (stage
 * `imaged`), or without one (stage `rewritten`; the image failed and PIPELINE_IMAGE_REQUIRED is
 * false, or the rewrite asked for none).
 */
export async function afterImage(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  post: Post,
): Promise<void> {
  ctx.log.info(
    `pipeline: post ${post.id} ${post.stage === 'imaged' ? `imaged (image ${post.imageId})` : 'goes on without an image'}`,
    { postId: post.id, imageId: post.imageId },
  );
  await queuePublication(ctx, post.id);
}
