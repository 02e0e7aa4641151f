/*
 * The image generator: pipeline.image makes one picture for a rewritten post whose rewrite
 * asked for one (its `image_prompt`), on the imagegen queue (the worker's last: low priority).
 * Tries, backoff and the timeout are the imagegen queue's (PIPELINE_IMAGEGEN_TRIES, 3;
 * PIPELINE_OPENAI_TIMEOUT, 30 s), under the `openai` breaker every OpenAI job shares.
 *
 * The file is recorded (pipeline_images) before it is written and attached after, so a crash at
 * any point leaves at worst an unattached row, which the cleanup (images-cleanup.ts) deletes
 * with its file. Done, the post's stage is `imaged` and it goes on (next.ts, afterImage). When
 * the last try fails: with PIPELINE_IMAGE_REQUIRED=true the post is failed ("no image: ..."),
 * else it goes on without an image; the admin is told either way.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineJob, Permanent, type JobContext } from 'jobsmith';
import { markPostCancelled } from './cancelled.js';
import { countsAgainstBreaker, GPT_BREAKER, GPT_BREAKER_DEFAULTS } from 'jobsmith/gpt';
import { z } from 'zod';
import { readEnv } from '../env.js';
import { notifyAdmin } from '../notify.js';
import { imageSettings, QUEUES, settings } from '../settings.js';
import { pipelineStore, type Post } from '../store.js';
import { generateImage } from './image-api.js';
import { imagePromptOf } from './prompt.js';

/** An image job stays unique per post this long (seconds): a second rewrite result adds none. */
const UNIQUE_FOR_S = 3600;

/** What pipeline.image did. */
export interface ImageResult {
  postId: number;
  /** pipeline_images.id, or null when the post needed none or was no longer waiting for one. */
  imageId: number | null;
  path?: string;
  /** Bytes of the file. */
  bytes?: number;
  skipped?: string;
}

export const postImage = defineJob({
  name: 'pipeline.image',
  queue: QUEUES.imagegen,
  schema: z.object({ postId: z.number().int().positive() }),
  unique: { key: (p) => `pipeline.image:${p.postId}`, for: UNIQUE_FOR_S },
  // The dashboard and `run queue:history --tag post:ID` find a post's jobs by this tag.
  tags: (p) => [`post:${p.postId}`],
  // The same breaker as jobsmith's gpt.complete: an OpenAI outage stops both (no attempt spent
  // while it is open). Upstream failures, refused keys and timeouts count.
  breaker: { ...GPT_BREAKER_DEFAULTS, name: GPT_BREAKER, when: countsAgainstBreaker },
  middleware: [markPostCancelled()],
  handle: ({ postId }, ctx) => makeImage(postId, ctx),
  async failed({ postId }, error, ctx) {
    await withoutImage(ctx, postId, error.message);
  },
});

async function makeImage(postId: number, ctx: JobContext): Promise<ImageResult> {
  const store = await pipelineStore();
  const post = await store.posts.find(postId);
  if (!post) throw new Permanent(`Post ${postId} is not in pipeline_posts: no image to make.`);
  if (post.status !== 'in_progress' || post.stage !== 'rewritten') {
    ctx.log.info(`pipeline: post ${postId} is ${post.status}/${post.stage}; no image made`);
    return { postId, imageId: null, skipped: `${post.status}/${post.stage}` };
  }
  // An earlier attempt attached the image and died before moving the stage on: finish it.
  if (post.imageId !== null && (await store.images.attachedTo(post.imageId)) === postId)
    return imaged(ctx, post, post.imageId);
  const prompt = imagePromptOf(post.rewritten);
  if (prompt === null) {
    await handOn(ctx, post);
    return { postId, imageId: null, skipped: 'no image_prompt' };
  }

  const { model, size, dir } = imageSettings();
  const env = readEnv();
  if (!env.OPENAI_API_KEY)
    throw new Permanent(
      'OPENAI_API_KEY is not set, so no image can be made. Set it in the environment or .env.',
    );
  const image = await generateImage({
    prompt,
    model,
    size,
    apiKey: env.OPENAI_API_KEY,
    baseURL: env.OPENAI_BASE_URL,
    timeoutMs: settings().timeouts.openai * 1000,
    signal: ctx.signal,
  });

  await mkdir(dir, { recursive: true });
  const file = path.join(
    dir,
    `post-${postId}-${Date.now()}-${randomBytes(3).toString('hex')}.${image.extension}`,
  );
  // Recorded first: a crash after this leaves an unattached row the cleanup deletes (with the
  // file, if it got written), never a file nothing points at.
  const row = await store.images.add(file);
  const temporary = `${file}.part`;
  try {
    await writeFile(temporary, image.bytes);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    await store.images.deleteUnattached(row.id);
    throw error;
  }
  if (!(await store.images.attach(row.id, postId))) {
    ctx.log.warn(`pipeline: post ${postId} disappeared; image ${row.id} is left to the cleanup`);
    return { postId, imageId: null, skipped: 'post deleted' };
  }
  ctx.log.info(
    `pipeline: post ${postId}: image ${row.id} made by ${model} (${image.bytes.length} bytes)`,
    { postId, imageId: row.id, path: file, model },
  );
  return { ...(await imaged(ctx, post, row.id)), path: file, bytes: image.bytes.length };
}

/** The post's image is attached: its stage becomes `imaged` and it goes on, once. */
async function imaged(ctx: JobContext, post: Post, imageId: number): Promise<ImageResult> {
  const store = await pipelineStore();
  const changed = await store.posts.update(
    post.id,
    { stage: 'imaged' },
    { whenStatus: ['in_progress'], whenStage: ['rewritten'] },
  );
  if (changed) await handOn(ctx, (await store.posts.find(post.id))!);
  return { postId: post.id, imageId };
}

/**
 * The last try failed (or a Permanent error): with PIPELINE_IMAGE_REQUIRED the post is failed,
 * else it goes on without an image. Only for a post still waiting for its image.
 */
async function withoutImage(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  postId: number,
  reason: string,
): Promise<void> {
  const store = await pipelineStore();
  const post = await store.posts.find(postId);
  if (!post || post.status !== 'in_progress' || post.stage !== 'rewritten') return;
  const where = `Post ${postId} (${post.channel}, message ${post.messageId})`;
  if (imageSettings().required) {
    if (!(await store.posts.markFailed(postId, `no image: ${reason}`))) return;
    await notifyAdmin(ctx, `${where} failed: no image: ${reason}`, 'error');
    return;
  }
  await notifyAdmin(ctx, `${where} goes on without an image: ${reason}`, 'warn');
  await handOn(ctx, post);
}

async function handOn(ctx: Pick<JobContext, 'dispatch' | 'log'>, post: Post): Promise<void> {
  // Imported when needed: next.ts dispatches this job, so a static import would be a cycle.
  const { afterImage } = await import('./next.js');
  await afterImage(ctx, post);
}

/** Every job of the image generator, for the config. */
export const imageJobs = [postImage];
