/*
 * What happens to a post once it is rewritten. Part 1 of the example stops here; the publisher
 * (publish*.ts) takes rewritten posts on from this hook.
 */
import type { JobContext } from 'jobsmith';
import type { Post } from '../store.js';
import { queuePublication } from './publish.js';

/** Called once per post, by pipeline.rewritten, after the post's stage became `rewritten`. */
export async function afterRewrite(
  ctx: Pick<JobContext, 'dispatch' | 'log'>,
  post: Post,
): Promise<void> {
  ctx.log.info(`pipeline: post ${post.id} rewritten`, { postId: post.id });
  await queuePublication(ctx, post.id);
}
