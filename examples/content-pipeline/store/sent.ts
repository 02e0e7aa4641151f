/*
 * pipeline_sent: what the publisher has sent of a post, one row per (post, target chat, send of
 * its plan), with Telegram's message ids. A publication retried after a flood wait, an outage or
 * a crash skips the sends recorded here, so no target gets a message twice; a cancelled
 * publication deletes the messages listed here, so nothing half-published remains.
 */
import type { Knex } from 'knex';
import { SENT } from './schema.js';

/** One send of a publication that Telegram accepted. */
export interface SentRecord {
  postId: number;
  /** The target chat as PIPELINE_TARGETS names it (`@channel` or a numeric id). */
  target: string;
  /** The send's index in the post's plan (publish-plan.ts), from 0. */
  item: number;
  /** The messages it created (an album: one per item). */
  messageIds: number[];
  /** Epoch ms. */
  sentAt: number;
}

interface SentRow {
  post_id: number | string;
  target: string;
  item: number | string;
  message_ids: string;
  sent_at: number | string;
}

export class SentTable {
  constructor(private readonly knex: Knex) {}

  /**
   * Records a send. Recording the same (post, target, item) twice keeps the first: a send is
   * recorded once, right after Telegram accepted it.
   */
  async record(postId: number, target: string, item: number, messageIds: number[]): Promise<void> {
    await this.knex(SENT)
      .insert({
        post_id: postId,
        target,
        item,
        message_ids: JSON.stringify(messageIds),
        sent_at: Date.now(),
      })
      .onConflict(['post_id', 'target', 'item'])
      .ignore();
  }

  /** The post's recorded sends, by target then item. */
  async forPost(postId: number): Promise<SentRecord[]> {
    const rows = await this.knex<SentRow>(SENT)
      .where({ post_id: postId })
      .orderBy([{ column: 'target' }, { column: 'item' }]);
    return rows.map((row) => ({
      postId: Number(row.post_id),
      target: row.target,
      item: Number(row.item),
      messageIds: JSON.parse(row.message_ids) as number[],
      sentAt: Number(row.sent_at),
    }));
  }

  /** Forgets the post's sends (after they were deleted, or to publish it anew); resolves with how many. */
  clear(postId: number): Promise<number> {
    return this.knex(SENT).where({ post_id: postId }).delete();
  }

  /** Forgets one target's sends of the post (after they were deleted from it). */
  clearTarget(postId: number, target: string): Promise<number> {
    return this.knex(SENT).where({ post_id: postId, target }).delete();
  }
}
