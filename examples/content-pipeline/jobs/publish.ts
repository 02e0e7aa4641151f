/*
 * pipeline.publish: one job per publication, a post sent to every channel of PIPELINE_TARGETS
 * (target by target, each send of the plan in order: publish-plan.ts). On the publish queue
 * (high priority), with its timeout (PIPELINE_PUBLISH_TIMEOUT, 45 s), tries
 * (PIPELINE_PUBLISH_TRIES) and backoff (PIPELINE_PUBLISH_RETRY_SECONDS, for an outage).
 *
 * - Each send accepted is recorded in pipeline_sent before the next: a retry (after a flood
 *   wait, an outage, a timeout or a crash) sends only what is missing.
 * - FLOOD_WAIT / 429 and a full limit put the job back without spending an attempt.
 * - Telegram down (5xx, network): the attempt fails and comes back after the backoff.
 * - A critical error (400 chat not found, 403 bot kicked, a missing file), or the last attempt
 *   failing: the whole publication is cancelled. The messages already sent for the post are
 *   deleted from every target, the post is marked failed with the reason and the admin told.
 * - Done: the post is succeeded, stage published.
 *
 * A re-run: `run pipeline:republish ID` (commands/republish.ts), or `run queue:retry` of the
 * failed job (the dashboard's retry): both publish the post again.
 */
import {
  Permanent,
  defineJob,
  type JobContext,
  type JobMiddleware,
  type MiddlewareContext,
} from 'jobsmith';
import { z } from 'zod';
import { notifyAdmin } from '../notify.js';
import { QUEUES, settings } from '../settings.js';
import { pipelineStore, type Post } from '../store.js';
import { markPostCancelled } from './cancelled.js';
import { filesOf, planPublication, publicationText } from './publish-plan.js';
import {
  CriticalSendError,
  deleteSent,
  publisher,
  sendStep,
  type Publisher,
} from './publish-send.js';

/** How long a publication's job stays unique (seconds): a second queueing adds none meanwhile. */
const UNIQUE_FOR_S = 3600;

/** Stages a post can be published from: rewritten, and imaged when it got an image. */
const PUBLISHABLE_STAGES = ['rewritten', 'imaged'] as const;

export interface PublishResult {
  postId: number;
  /** Sends made by this attempt (a retry skips what an earlier one sent). */
  sent: number;
  /** Sends recorded by earlier attempts and skipped. */
  skipped: number;
  targets: string[];
}

type PublishPayload = { postId: number };

// The handler needs its middleware context (the flow control holding Telegram's limits): the
// middleware keeps it here for the attempt, by job id.
const running = new Map<string, MiddlewareContext<unknown>>();
const keepContext: JobMiddleware<PublishPayload> = async (ctx, next) => {
  running.set(ctx.jobId, ctx as MiddlewareContext<unknown>);
  try {
    return await next();
  } finally {
    running.delete(ctx.jobId);
  }
};

export const publish = defineJob({
  name: 'pipeline.publish',
  queue: QUEUES.publish,
  schema: z.object({ postId: z.number().int().positive() }),
  unique: { key: (p) => `pipeline.publish:${p.postId}`, for: UNIQUE_FOR_S },
  // The dashboard and `run queue:history --tag post:ID` find a post's jobs by this tag.
  tags: (p) => [`post:${p.postId}`],
  // Cancelled while it runs: what was sent of the post is deleted, and it is marked cancelled.
  middleware: [
    keepContext,
    markPostCancelled((ctx, postId, reason) => cancelPublication(ctx, postId, reason, 'cancelled')),
  ],
  handle: (payload, ctx) => publishPost(payload.postId, ctx),
  // Out of attempts (Telegram down through every retry, timeouts): cancel what was sent.
  async failed({ postId }, error, ctx) {
    try {
      await cancelPublication(ctx, postId, `publishing failed: ${error.message}`);
    } catch (cancelError) {
      // The job is failed either way; say why its post could not be cancelled.
      ctx.log.error(
        `pipeline: post ${postId}: cancelling its publication failed: ${(cancelError as Error)?.message ?? cancelError}`,
      );
    }
  },
});

/**
 * Queues the post's publication (unique per post: a second call while it is queued or running
 * returns the same job). Called by afterRewrite (next.ts) and `run pipeline:republish`.
 */
export function queuePublication(
  ctx: Pick<JobContext, 'dispatch'>,
  postId: number,
): ReturnType<JobContext['dispatch']> {
  return ctx.dispatch(publish, { postId }, { queue: QUEUES.publish });
}

async function publishPost(
  postId: number,
  ctx: JobContext,
): Promise<PublishResult | { skipped: true }> {
  const store = await pipelineStore();
  const started = await store.posts.update(
    postId,
    { status: 'in_progress' },
    { whenStatus: ['queued', 'in_progress', 'failed'], whenStage: [...PUBLISHABLE_STAGES] },
  );
  const post = await store.posts.find(postId);
  if (!post) throw new Permanent(`Post ${postId} is not in pipeline_posts: nothing to publish.`);
  if (!started) {
    ctx.log.info(`pipeline: post ${postId} is ${post.status}/${post.stage}; not publishing it`);
    return { skipped: true };
  }
  const targets = settings().targets;
  if (targets.length === 0)
    throw new Permanent(
      'PIPELINE_TARGETS is empty: set the channels to publish to (@channel or ids, comma-separated).',
    );
  const middlewareCtx = running.get(ctx.jobId);
  if (!middlewareCtx) throw new Permanent('pipeline.publish runs without its middleware.');
  const plan = planPublication(publicationText(post), filesOf(post, await imagePath(post)));
  if (plan.length === 0) {
    await cancelPublication(ctx, postId, 'nothing to publish: the post has no text and no file');
    return { skipped: true };
  }
  const done = new Set((await store.sent.forPost(postId)).map((s) => `${s.target}\n${s.item}`));
  const result: PublishResult = { postId, sent: 0, skipped: 0, targets };
  let who: Publisher;
  try {
    who = publisher();
    for (const target of targets) {
      for (const [item, step] of plan.entries()) {
        if (done.has(`${target}\n${item}`)) {
          result.skipped++;
          continue;
        }
        const ids = await sendStep(middlewareCtx, who, target, step);
        await store.sent.record(postId, target, item, ids);
        result.sent++;
      }
    }
  } catch (error) {
    if (!(error instanceof CriticalSendError)) throw error;
    await cancelPublication(ctx, postId, `publishing cancelled: ${error.reason}`);
    throw new Permanent(`Post ${postId}: publishing cancelled: ${error.reason}`);
  }
  await store.posts.update(
    postId,
    { status: 'succeeded', stage: 'published', error: null },
    { whenStatus: ['in_progress'] },
  );
  ctx.log.info(
    `pipeline: post ${postId} published to ${targets.join(', ')} (${plan.length} sends each; ${result.sent} now, ${result.skipped} before)`,
    { ...result },
  );
  return result;
}

async function imagePath(post: Post): Promise<string | null> {
  if (post.imageId === null) return null;
  const image = await (await pipelineStore()).images.find(post.imageId);
  return image?.path ?? null;
}

/**
 * Cancels the post's publication: deletes what was sent of it from every target (what could not
 * be deleted is named in the reason), marks the post failed (or, for a cancel by hand,
 * cancelled) with the reason, tells the admin. Once per failure: a post already failed or
 * cancelled is left as it is.
 */
async function cancelPublication(
  ctx: Pick<JobContext, 'dispatch' | 'log' | 'signal'>,
  postId: number,
  reason: string,
  status: 'failed' | 'cancelled' = 'failed',
): Promise<void> {
  const store = await pipelineStore();
  const post = await store.posts.find(postId);
  if (!post || post.status === 'failed' || post.status === 'cancelled') return;
  const sent = await store.sent.forPost(postId);
  const byTarget = new Map<string, number[]>();
  for (const s of sent)
    byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), ...s.messageIds]);
  const left: string[] = [];
  if (byTarget.size > 0) {
    const who = publisher();
    for (const [target, ids] of byTarget) {
      const refused = await deleteSent(who, target, ids);
      if (refused) left.push(`${target} (messages ${ids.join(', ')}: ${refused})`);
      else await store.sent.clearTarget(postId, target);
    }
  }
  const deleted = [...byTarget.values()].flat().length;
  const full =
    left.length > 0
      ? `${reason}. Could not delete what was sent to ${left.join('; ')}`
      : deleted > 0
        ? `${reason}. The ${deleted} messages already sent were deleted`
        : reason;
  const marked =
    status === 'cancelled'
      ? await store.posts.markCancelled(postId, full)
      : await store.posts.markFailed(postId, full);
  if (!marked) return;
  await notifyAdmin(
    ctx,
    `Post ${postId} (${post.channel}, message ${post.messageId}) ${status === 'cancelled' ? 'was cancelled' : 'failed'}: ${full}`,
    'error',
  );
}
