/*
 * pipeline_images: generated image files. An image is kept only while a post points at it;
 * the cleanup deletes unattached images (and their files) once they are old enough.
 */
import type { Knex } from 'knex';
import { IMAGES, POSTS } from './schema.js';

export interface PipelineImage {
  id: number;
  /** The post it is attached to; null while unattached. */
  postId: number | null;
  /** The file, as the image generator stored it (under the example's storage folder). */
  path: string;
  /** Epoch ms. */
  createdAt: number;
}

interface ImageRow {
  id: number | string;
  post_id: number | string | null;
  path: string;
  created_at: number | string;
}

export class ImagesTable {
  constructor(private readonly knex: Knex) {}

  /** Records an image file, unattached unless `postId` is given; resolves with it. */
  async add(path: string, postId: number | null = null): Promise<PipelineImage> {
    const createdAt = Date.now();
    const [row] = await this.knex(IMAGES)
      .insert({ post_id: postId, path, created_at: createdAt })
      .returning('id');
    const id = Number(typeof row === 'object' ? (row as { id: unknown }).id : row);
    if (postId !== null) await this.knex(POSTS).where({ id: postId }).update({ image_id: id });
    return { id, postId, path, createdAt };
  }

  /**
   * Attaches the image to the post (both sides, one transaction); the post's previous image,
   * if any, becomes unattached (the cleanup takes it). Resolves false when either is missing.
   */
  attach(imageId: number, postId: number): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const post = await trx(POSTS).where({ id: postId }).first('id');
      if (!post) return false;
      const changed = await trx(IMAGES).where({ id: imageId }).update({ post_id: postId });
      if (changed === 0) return false;
      await trx(IMAGES)
        .where({ post_id: postId })
        .whereNot({ id: imageId })
        .update({ post_id: null });
      await trx(POSTS).where({ id: postId }).update({ image_id: imageId, updated_at: Date.now() });
      return true;
    });
  }

  /** The image, or undefined. */
  async find(id: number): Promise<PipelineImage | undefined> {
    const row = await this.knex<ImageRow>(IMAGES).where({ id }).first();
    return row ? toImage(row) : undefined;
  }

  /** Unattached images created before `before` (epoch ms), oldest first, at most `limit`. */
  async unattached(before: number, limit = 100): Promise<PipelineImage[]> {
    const rows = await this.knex<ImageRow>(IMAGES)
      .whereNull('post_id')
      .where('created_at', '<', before)
      .orderBy('id')
      .limit(limit);
    return rows.map(toImage);
  }

  /**
   * Deletes the image's row if it is still unattached (the caller deletes the file after).
   * Resolves true when it was deleted, false when it is attached or missing.
   */
  async deleteUnattached(id: number): Promise<boolean> {
    return (await this.knex(IMAGES).where({ id }).whereNull('post_id').delete()) > 0;
  }

  /**
   * Images the cleanup may delete, created before `before` (epoch ms), oldest first, at most
   * `limit`: unattached ones, and outdated ones, whose post is gone or points at another image
   * (a crash between the two sides of an attach, a post deleted by hand). An image its post
   * points at is never among them.
   */
  async outdated(before: number, limit = 100): Promise<PipelineImage[]> {
    const rows = await this.knex<ImageRow>(IMAGES)
      .where('created_at', '<', before)
      .where((q) => q.whereNull('post_id').orWhereNotExists(this.pointedAt()))
      .orderBy('id')
      .limit(limit);
    return rows.map(toImage);
  }

  /**
   * Deletes the image's row if it is still unattached or outdated (outdated() above); the
   * caller deletes the file after. Resolves true when it was deleted, false when its post
   * points at it or it is missing. One statement: an attach in between keeps the image.
   */
  async deleteOutdated(id: number): Promise<boolean> {
    const deleted = await this.knex(IMAGES)
      .where({ id })
      .where((q) => q.whereNull('post_id').orWhereNotExists(this.pointedAt()))
      .delete();
    return deleted > 0;
  }

  /** The image's post, when that post points at it (its attached image); else undefined. */
  async attachedTo(id: number): Promise<number | undefined> {
    const row = await this.knex(IMAGES)
      .join(POSTS, `${POSTS}.id`, `${IMAGES}.post_id`)
      .where(`${IMAGES}.id`, id)
      .whereRaw(`${POSTS}.image_id = ${IMAGES}.id`)
      .first(`${POSTS}.id as post_id`);
    return row ? Number(row.post_id) : undefined;
  }

  /** A post that points at the outer query's image: the image is attached. */
  private pointedAt(): Knex.QueryBuilder {
    return this.knex(POSTS)
      .select(this.knex.raw('1'))
      .whereRaw(`${POSTS}.id = ${IMAGES}.post_id and ${POSTS}.image_id = ${IMAGES}.id`);
  }
}

function toImage(row: ImageRow): PipelineImage {
  return {
    id: Number(row.id),
    postId: row.post_id === null ? null : Number(row.post_id),
    path: row.path,
    createdAt: Number(row.created_at),
  };
}
