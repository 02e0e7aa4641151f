/*
 * `run pipeline:republish ID [--json]`: publishes a post again by hand (the dashboard's retry of
 * a failed pipeline.publish job does the same). The post must be finished (published, failed or
 * cancelled); it goes back to queued and its publication is queued on the publish queue, or,
 * when its rewrite failed, its rewrite is run again (and the rest follows). `--force` takes a
 * post still queued or in progress too: one whose job was cancelled while it waited (no job
 * runs then to mark it) or lost. Exit codes: 0 queued; 1 no such post, or one still queued or
 * in progress without --force; 2 an id that is not a positive integer.
 */
import { defineCommand, JobsmithError, UsageError } from 'jobsmith';
import { closePipelineStore, pipelineStore, type Post } from '../store.js';
import { queuePublication } from '../jobs/publish.js';
import { rewrite } from '../jobs/rewrite.js';

/** Statuses a post can be republished from. */
const FINISHED = ['succeeded', 'failed', 'cancelled'] as const;

export const republish = defineCommand({
  name: 'pipeline:republish',
  description: 'Publish a post of the content pipeline again (failed, cancelled or published)',
  example: 'run pipeline:republish 42 --json',
  arguments: [{ name: 'id', description: 'the post id (pipeline_posts.id)' }],
  options: [
    {
      flags: '--json',
      description: 'print { postId, step, jobId, deduplicated } as JSON (step: publish or rewrite)',
    },
    {
      flags: '--force',
      description:
        'republish a post still queued or in progress, whose job was cancelled while it waited or lost',
    },
  ],
  async handler({ args, options, dispatch }) {
    const raw = String(args.id);
    const id = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
      throw new UsageError(
        `pipeline:republish takes a post id (a positive whole number), got "${raw}".`,
      );
    try {
      const post = await resetPost(id, options.force === true);
      const step = post.stage === 'collected' ? 'rewrite' : 'publish';
      const job =
        step === 'rewrite'
          ? await dispatch(rewrite, { postId: post.id })
          : await queuePublication({ dispatch }, post.id);
      const result = {
        postId: post.id,
        step,
        jobId: job.id,
        deduplicated: job.deduplicated === true,
      };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(result)}\n`
          : `Post ${post.id} (${post.channel}, message ${post.messageId}) is queued for ${step === 'rewrite' ? `rewriting (${options.force === true ? 'not rewritten yet' : 'its rewrite had failed'}), then publishing` : 'publishing'}: ${job.deduplicated === true ? `job ${job.id}, already queued` : `job ${job.id}`}.\n`,
      );
    } finally {
      await closePipelineStore();
    }
  },
});

/**
 * Puts a finished post back to queued (its stage back to where publishing starts; `collected`
 * stays, for a post whose rewrite failed), and forgets what an earlier publication sent, so
 * every target gets it anew.
 * @throws JobsmithError for an unknown post, or one that cannot be published now.
 */
async function resetPost(id: number, force: boolean): Promise<Post> {
  const store = await pipelineStore();
  const post = await store.posts.find(id);
  if (!post)
    throw new JobsmithError(`There is no post ${id} in pipeline_posts.`, {
      hint: 'Give the id of a collected post: select id, status, stage from pipeline_posts.',
    });
  if (!force && !(FINISHED as readonly string[]).includes(post.status))
    throw new JobsmithError(
      `Post ${id} is ${post.status}: its rewrite or publication is still queued or running.`,
      {
        hint: `Wait for it to finish (run queue:history --tag post:${id} shows its jobs), then republish it if it failed. If its job was cancelled while it waited (run queue:cancel), or is gone, pass --force.`,
      },
    );
  const stage =
    post.stage === 'published' ? (post.imageId !== null ? 'imaged' : 'rewritten') : post.stage;
  const reset = await store.posts.update(
    id,
    { status: 'queued', stage, error: null },
    { whenStatus: force ? [...FINISHED, 'queued', 'in_progress'] : FINISHED },
  );
  if (!reset) throw new JobsmithError(`Post ${id} changed while it was being reset; try again.`);
  await store.sent.clear(id);
  return (await store.posts.find(id))!;
}
