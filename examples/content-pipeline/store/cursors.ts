/*
 * pipeline_cursors: per channel, the highest message id the collector has stored, so the next
 * run reads only what came after it.
 */
import type { Knex } from 'knex';
import { CURSORS } from './schema.js';

export class CursorsTable {
  constructor(private readonly knex: Knex) {}

  /** The channel's last stored message id; 0 for a channel never read. */
  async get(channel: string): Promise<number> {
    const row = await this.knex(CURSORS).where({ channel }).first('last_message_id');
    return row ? Number(row.last_message_id) : 0;
  }

  /**
   * Moves the channel's cursor forward to `messageId`; never backward (two collectors of one
   * channel finishing out of order keep the higher). Resolves with the cursor as stored.
   */
  async advance(channel: string, messageId: number): Promise<number> {
    const higher =
      this.knex.client.config.client === 'pg'
        ? `greatest(${CURSORS}.last_message_id, excluded.last_message_id)`
        : `max(${CURSORS}.last_message_id, excluded.last_message_id)`;
    await this.knex(CURSORS)
      .insert({ channel, last_message_id: messageId, updated_at: Date.now() })
      .onConflict('channel')
      .merge({ last_message_id: this.knex.raw(higher), updated_at: Date.now() });
    return this.get(channel);
  }

  /** Every channel's cursor, by channel name. */
  async all(): Promise<Record<string, number>> {
    const rows = await this.knex(CURSORS).select('channel', 'last_message_id').orderBy('channel');
    return Object.fromEntries(rows.map((r) => [r.channel as string, Number(r.last_message_id)]));
  }
}
