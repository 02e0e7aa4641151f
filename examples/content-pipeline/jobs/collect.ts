/*
 * pipeline.collect: reads one channel's new messages since its cursor (through the session's
 * lease, health check and flood-wait handling of jobsmith/channels), stores each new post once
 * (an album is one post), downloads its media (media.ts; PIPELINE_DOWNLOAD_MEDIA), hands it to
 * the rewriter, and moves the cursor. Scheduled per channel of PIPELINE_CHANNELS (the config),
 * every 5 minutes by default.
 *
 * A post is handed on only once its media are downloaded (or marked skipped/failed). An attempt
 * that stops before (a flood wait, a lost connection, the timeout) leaves the cursor where it
 * was, so the next attempt or run reads the post again, finds it stored (a duplicate by message)
 * still queued/collected, downloads what is missing and hands it on.
 */
import { defineJob, type JobContext } from 'jobsmith';
import { channelSession, channelSessionOf, type ChannelMessage } from 'jobsmith/channels';
import { z } from 'zod';
import { notifyAdmin } from '../notify.js';
import { mediaSettings, QUEUES, settings } from '../settings.js';
import { channelSource } from '../source.js';
import { pipelineStore, type NewPost, type Post } from '../store.js';
import { downloadMedia, type MediaCounts, type MediaSource } from './media.js';
import { rewrite } from './rewrite.js';

export interface CollectResult {
  channel: string;
  /** Messages read. */
  read: number;
  /** New posts stored (an album counts once). */
  stored: number;
  /** Posts already stored: the same message again, or the same content (a repost). */
  duplicates: { message: number; content: number };
  /** Media items downloaded, skipped (too big) and failed, of the posts handed on. */
  media: MediaCounts;
  /** Reconnects the session check needed; flood waits met (slept ones included). */
  reconnects: number;
  floodWaits: number;
  /** The channel's cursor after the run. */
  cursor: number;
}

export const collect = defineJob({
  name: 'pipeline.collect',
  queue: QUEUES.collector,
  schema: z.object({
    channel: z.string().regex(/^(@[A-Za-z0-9_]{4,64}|-?\d{1,20})$/, '@username or a numeric id'),
  }),
  middleware: [
    // Per attempt: the notice needs this job's dispatch.
    (ctx, next) =>
      channelSession(channelSource, {
        onFloodWait: (n) =>
          notifyAdmin(
            ctx,
            `Telegram rate-limits account ${n.account}: it must wait ${n.seconds}s before ${n.method}. Collecting resumes after that.`,
          ),
      })(ctx, next),
  ],
  handle: (payload, ctx) => collectChannel(payload.channel, ctx),
});

async function collectChannel(channel: string, ctx: JobContext): Promise<CollectResult> {
  const session = channelSessionOf(ctx);
  const store = await pipelineStore();
  const cursor = await store.cursors.get(channel);
  const limit = settings().collectLimit;
  const messages = await session.source.readSince(channel, cursor, limit, ctx.signal);
  const { posts, groups, lastId } = postsOf(channel, messages, messages.length >= limit);
  const result: CollectResult = {
    channel,
    read: messages.length,
    stored: 0,
    duplicates: { message: 0, content: 0 },
    media: { downloaded: 0, skipped: 0, failed: 0 },
    reconnects: session.reconnects,
    floodWaits: 0,
    cursor,
  };
  /** Downloads the post's missing media (a repost never gets here), then hands it on. */
  const handOn = async (post: Post, group: ChannelMessage[]) => {
    if (mediaSettings().download)
      await downloadMedia(ctx, session.source, post, sourcesOf(group), result.media);
    await ctx.dispatch(rewrite, { postId: post.id });
  };
  for (const [i, post] of posts.entries()) {
    const outcome = await store.posts.save(post);
    if (outcome.saved) {
      result.stored++;
      await handOn(outcome.post, groups[i]!);
      continue;
    }
    result.duplicates[outcome.duplicate]++;
    if (outcome.duplicate !== 'message') continue;
    // An earlier attempt stored it and may have stopped before handing it on (while downloading
    // its media, say): what is missing is downloaded now. The rewrite job is unique per post, so
    // this dispatches nothing when it is already queued.
    const stored = await store.posts.find(outcome.existingId);
    if (stored?.status === 'queued' && stored.stage === 'collected')
      await handOn(stored, groups[i]!);
  }
  if (lastId > cursor) result.cursor = await store.cursors.advance(channel, lastId);
  result.floodWaits = session.floodWaits;
  ctx.log.info(
    `pipeline: ${channel}: read ${result.read}, stored ${result.stored}, duplicates ${result.duplicates.message} by message and ${result.duplicates.content} by content; media ${result.media.downloaded} downloaded, ${result.media.skipped} skipped, ${result.media.failed} failed; ${result.reconnects} reconnects, ${result.floodWaits} flood waits`,
    { ...result },
  );
  return result;
}

/**
 * The posts among `messages` (oldest first): an album (messages sharing a groupedId, in a row)
 * is one post with the first message's id, the first caption and every message's media. When
 * the read was full, an album at its end may go on in the next page: it is left for the next
 * run (the cursor stops before it), unless it is all there is. `groups[i]` are the messages of
 * `posts[i]`.
 */
export function postsOf(
  channel: string,
  messages: ChannelMessage[],
  full: boolean,
): { posts: NewPost[]; groups: ChannelMessage[][]; lastId: number } {
  const groups: ChannelMessage[][] = [];
  for (const message of messages) {
    const last = groups.at(-1);
    if (last && message.groupedId && last[0]!.groupedId === message.groupedId) last.push(message);
    else groups.push([message]);
  }
  if (full && groups.length > 1 && groups.at(-1)![0]!.groupedId) groups.pop();
  const posts = groups.map((group): NewPost => ({
    channel,
    messageId: group[0]!.id,
    text: group.find((m) => m.text !== '')?.text ?? '',
    media: group.flatMap((m) => m.media ?? []),
    ...(group[0]!.groupedId ? { groupedId: group[0]!.groupedId } : {}),
  }));
  const lastId = Math.max(0, ...groups.flat().map((m) => m.id));
  return { posts, groups, lastId };
}

/** The group's media with the message each came with, in the order of the post's media. */
function sourcesOf(group: ChannelMessage[]): MediaSource[] {
  return group.flatMap((message) => (message.media ?? []).map((media) => ({ message, media })));
}
