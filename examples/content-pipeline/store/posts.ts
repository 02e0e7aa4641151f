/*
 * pipeline_posts: one row per collected post, deduplicated by (channel, message id) and by
 * content hash, carrying its status and how far through the pipeline it got.
 */
import type { Knex } from 'knex';
import { contentHash } from './hash.js';
import { POSTS } from './schema.js';

/** Where a post stands: queued → in_progress → succeeded | failed | cancelled. */
export const POST_STATUSES = ['queued', 'in_progress', 'succeeded', 'failed', 'cancelled'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/** The last step a post finished: collected → rewritten → imaged (optional) → published. */
export const POST_STAGES = ['collected', 'rewritten', 'imaged', 'published'] as const;
export type PostStage = (typeof POST_STAGES)[number];

/** A post's media, as the ChannelSource port (jobsmith/channels) gives it. */
export interface PostMedia {
  kind: 'photo' | 'video' | 'document';
  /** MTProto's photo/document id, decimal. */
  id: string;
  mimeType?: string;
  /** Bytes. */
  size?: number;
  /** The downloaded copy (absolute), set by the collector (jobs/media.ts); the publisher sends it. */
  path?: string;
  /** Not downloaded, for good: `skipped` (too big, or downloads off) or `failed`. */
  download?: 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  downloadError?: string;
}

/** What updateMedia() sets on one media item. */
export type MediaPatch = Pick<PostMedia, 'path' | 'download' | 'downloadError'>;

/** What the rewriter made of a post: the model's JSON reply, `title` and `text` at least. */
export interface Rewritten {
  title: string;
  text: string;
  [field: string]: unknown;
}

export interface Post {
  id: number;
  channel: string;
  messageId: number;
  /** contentHash(text, media ids): hex SHA-256. */
  contentHash: string;
  text: string;
  media: PostMedia[];
  /** The album's id when the post is a media group (several channel messages, one post). */
  groupedId: string | null;
  status: PostStatus;
  stage: PostStage;
  rewritten: Rewritten | null;
  /** pipeline_images.id of its generated image. */
  imageId: number | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

/** A post as the collector found it. */
export interface NewPost {
  channel: string;
  messageId: number;
  text: string;
  media?: PostMedia[];
  groupedId?: string;
}

/** What save() did: stored it, or found it already there (by its message or by its content). */
export type SaveOutcome =
  | { saved: true; post: Post }
  | { saved: false; duplicate: 'message' | 'content'; existingId: number };

/** Fields update() may change. */
export interface PostPatch {
  status?: PostStatus;
  stage?: PostStage;
  rewritten?: Rewritten | null;
  imageId?: number | null;
  error?: string | null;
}

/** Only change a post that is still in one of these states (a retried job does its work once). */
export interface UpdateGuard {
  whenStatus?: readonly PostStatus[];
  whenStage?: readonly PostStage[];
}

export interface ListPostsOptions {
  status?: PostStatus;
  stage?: PostStage;
  channel?: string;
  /** At most this many. @defaultValue 100 */
  limit?: number;
  /** By id: 'asc' (oldest first, the publishing order) or 'desc'. @defaultValue 'asc' */
  order?: 'asc' | 'desc';
}

interface PostRow {
  id: number | string;
  channel: string;
  message_id: number | string;
  content_hash: string;
  text: string;
  media: string;
  grouped_id: string | null;
  status: PostStatus;
  stage: PostStage;
  rewritten: string | null;
  image_id: number | string | null;
  error: string | null;
  created_at: number | string;
  updated_at: number | string;
}

/** The posts table. Every method is one statement (save: an insert and, on a duplicate, a read). */
export class PostsTable {
  constructor(private readonly knex: Knex) {}

  /**
   * Stores a collected post as queued/collected, unless a post with the same (channel, message
   * id) or the same content hash is there already: then nothing changes and the outcome names
   * the existing post. Concurrent collectors cannot both store one post (the unique keys decide).
   */
  async save(post: NewPost, tries = 3): Promise<SaveOutcome> {
    const media = post.media ?? [];
    const hash = contentHash(
      post.text,
      media.map((m) => m.id),
    );
    const now = Date.now();
    const inserted = await this.knex(POSTS)
      .insert({
        channel: post.channel,
        message_id: post.messageId,
        content_hash: hash,
        text: post.text,
        media: JSON.stringify(media),
        grouped_id: post.groupedId ?? null,
        status: 'queued',
        stage: 'collected',
        created_at: now,
        updated_at: now,
      })
      .onConflict()
      .ignore()
      .returning('id');
    const id = inserted[0] === undefined ? undefined : idOf(inserted[0]);
    if (id !== undefined) return { saved: true, post: (await this.find(id))! };
    const same = await this.knex(POSTS)
      .where({ channel: post.channel, message_id: post.messageId })
      .first('id');
    if (same) return { saved: false, duplicate: 'message', existingId: Number(same.id) };
    const repost = await this.knex(POSTS).where({ content_hash: hash }).first('id');
    if (repost) return { saved: false, duplicate: 'content', existingId: Number(repost.id) };
    // Neither key matches any more: the conflicting row was deleted in between. Rare; try again.
    if (tries > 1) return this.save(post, tries - 1);
    throw new Error(
      `pipeline_posts: ${post.channel}/${post.messageId} conflicts with a post that keeps disappearing; is something deleting posts?`,
    );
  }

  /** The post, or undefined. */
  async find(id: number): Promise<Post | undefined> {
    const row = await this.knex<PostRow>(POSTS).where({ id }).first();
    return row ? toPost(row) : undefined;
  }

  /** Posts by filter, ordered by id. */
  async list(options: ListPostsOptions = {}): Promise<Post[]> {
    const query = this.knex<PostRow>(POSTS)
      .orderBy('id', options.order ?? 'asc')
      .limit(options.limit ?? 100);
    if (options.status) query.where('status', options.status);
    if (options.stage) query.where('stage', options.stage);
    if (options.channel) query.where('channel', options.channel);
    return (await query).map(toPost);
  }

  /** How many posts have each status (every status listed, 0 included). */
  async countByStatus(): Promise<Record<PostStatus, number>> {
    const rows = (await this.knex(POSTS)
      .select('status')
      .count({ n: '*' })
      .groupBy('status')) as Array<{ status: PostStatus; n: number | string }>;
    const counts = Object.fromEntries(POST_STATUSES.map((s) => [s, 0])) as Record<
      PostStatus,
      number
    >;
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  /**
   * Changes the given fields (and updated_at); with a guard, only while the post's status and
   * stage are among those listed. Resolves true when the post changed, false when it is missing
   * or the guard did not hold.
   */
  async update(id: number, patch: PostPatch, guard: UpdateGuard = {}): Promise<boolean> {
    const row: Record<string, unknown> = { updated_at: Date.now() };
    if (patch.status !== undefined) row.status = patch.status;
    if (patch.stage !== undefined) row.stage = patch.stage;
    if (patch.rewritten !== undefined)
      row.rewritten = patch.rewritten === null ? null : JSON.stringify(patch.rewritten);
    if (patch.imageId !== undefined) row.image_id = patch.imageId;
    if (patch.error !== undefined) row.error = patch.error;
    const query = this.knex(POSTS).where({ id }).update(row);
    if (guard.whenStatus) query.whereIn('status', [...guard.whenStatus]);
    if (guard.whenStage) query.whereIn('stage', [...guard.whenStage]);
    return (await query) > 0;
  }

  /**
   * Sets `patch` on the post's media item `index` (which must still be media `mediaId`), keeping
   * the rest of the JSON. Read, then written only if the JSON did not change in between (else
   * read again, 3 tries). Resolves false when the post or that item is gone.
   */
  async updateMedia(
    id: number,
    index: number,
    mediaId: string,
    patch: MediaPatch,
    tries = 3,
  ): Promise<boolean> {
    const row = await this.knex<PostRow>(POSTS).where({ id }).first('media');
    if (!row) return false;
    const media = JSON.parse(row.media) as PostMedia[];
    if (media[index]?.id !== mediaId) return false;
    media[index] = { ...media[index], ...patch };
    const changed = await this.knex(POSTS)
      .where({ id, media: row.media })
      .update({ media: JSON.stringify(media), updated_at: Date.now() });
    if (changed > 0) return true;
    if (tries > 1) return this.updateMedia(id, index, mediaId, patch, tries - 1);
    throw new Error(
      `pipeline_posts: the media of post ${id} keep changing under updateMedia; is a second collector writing them?`,
    );
  }

  /** Marks the post failed with the reason, unless it already succeeded or was cancelled. */
  markFailed(id: number, reason: string): Promise<boolean> {
    return this.update(
      id,
      { status: 'failed', error: reason },
      { whenStatus: ['queued', 'in_progress', 'failed'] },
    );
  }

  /** Marks the post cancelled with the reason, unless it already succeeded. */
  markCancelled(id: number, reason: string): Promise<boolean> {
    return this.update(
      id,
      { status: 'cancelled', error: reason },
      { whenStatus: ['queued', 'in_progress', 'failed', 'cancelled'] },
    );
  }
}

function idOf(value: unknown): number {
  // PostgreSQL returns `{ id }`, SQLite (better-sqlite3) `{ id }` or the bare number.
  return Number(
    typeof value === 'object' && value !== null ? (value as { id: unknown }).id : value,
  );
}

function toPost(row: PostRow): Post {
  return {
    id: Number(row.id),
    channel: row.channel,
    messageId: Number(row.message_id),
    contentHash: row.content_hash,
    text: row.text,
    media: JSON.parse(row.media) as PostMedia[],
    groupedId: row.grouped_id,
    status: row.status,
    stage: row.stage,
    rewritten: row.rewritten === null ? null : (JSON.parse(row.rewritten) as Rewritten),
    imageId: row.image_id === null ? null : Number(row.image_id),
    error: row.error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
