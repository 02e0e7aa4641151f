/*
 * The example's own tables, created on first use (the example is an app on jobsmith, not part
 * of jobsmith's migrations). Every process calls ensurePipelineSchema on start; the creation is
 * one transaction so no process sees a table without its unique keys.
 */
import type { Knex } from 'knex';

export const POSTS = 'pipeline_posts';
export const CURSORS = 'pipeline_cursors';
export const IMAGES = 'pipeline_images';
export const SENT = 'pipeline_sent';

/** Tries when two processes create the schema at once (SQLite answers the loser SQLITE_BUSY). */
const CREATE_TRIES = 5;

const ready = new WeakMap<Knex, Promise<void>>();

/**
 * Creates pipeline_posts, pipeline_cursors, pipeline_images and pipeline_sent if they are missing; once per
 * knex instance. Safe to call from several processes at once (PostgreSQL: an advisory lock;
 * SQLite: the loser of the write lock tries again, at most 5 times).
 */
export function ensurePipelineSchema(knex: Knex): Promise<void> {
  let done = ready.get(knex);
  if (!done) {
    done = createTables(knex);
    ready.set(knex, done);
    done.catch(() => ready.delete(knex));
  }
  return done;
}

async function createTables(knex: Knex): Promise<void> {
  const pg = knex.client.config.client === 'pg';
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.transaction(async (trx) => {
        // hashtext() is stable across servers; the key names this schema only.
        if (pg) await trx.raw(`select pg_advisory_xact_lock(hashtext('jobsmith:pipeline_schema'))`);
        if (!(await trx.schema.hasTable(POSTS))) await trx.schema.createTable(POSTS, posts);
        if (!(await trx.schema.hasTable(CURSORS))) await trx.schema.createTable(CURSORS, cursors);
        if (!(await trx.schema.hasTable(IMAGES))) await trx.schema.createTable(IMAGES, images);
        if (!(await trx.schema.hasTable(SENT))) await trx.schema.createTable(SENT, sent);
      });
      return;
    } catch (error) {
      if (attempt >= CREATE_TRIES || !isBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED';
}

function posts(t: Knex.CreateTableBuilder): void {
  t.increments('id').primary();
  t.string('channel', 255).notNullable();
  t.bigInteger('message_id').notNullable();
  t.string('content_hash', 64).notNullable();
  t.text('text').notNullable();
  t.text('media').notNullable().defaultTo('[]');
  t.string('grouped_id', 32).nullable();
  t.string('status', 16).notNullable().defaultTo('queued');
  t.string('stage', 16).notNullable().defaultTo('collected');
  t.text('rewritten').nullable();
  t.integer('image_id').nullable();
  t.text('error').nullable();
  t.bigInteger('created_at').notNullable();
  t.bigInteger('updated_at').notNullable();
  t.unique(['channel', 'message_id'], { indexName: 'pipeline_posts_channel_message_unique' });
  t.unique(['content_hash'], { indexName: 'pipeline_posts_content_hash_unique' });
  t.index(['status', 'stage'], 'pipeline_posts_status_stage_index');
}

function cursors(t: Knex.CreateTableBuilder): void {
  t.string('channel', 255).primary();
  t.bigInteger('last_message_id').notNullable();
  t.bigInteger('updated_at').notNullable();
}

function images(t: Knex.CreateTableBuilder): void {
  t.increments('id').primary();
  t.integer('post_id').nullable();
  t.text('path').notNullable();
  t.bigInteger('created_at').notNullable();
  t.index(['post_id'], 'pipeline_images_post_id_index');
}

function sent(t: Knex.CreateTableBuilder): void {
  t.increments('id').primary();
  t.integer('post_id').notNullable();
  t.string('target', 255).notNullable();
  t.integer('item').notNullable();
  t.text('message_ids').notNullable();
  t.bigInteger('sent_at').notNullable();
  t.unique(['post_id', 'target', 'item'], { indexName: 'pipeline_sent_post_target_item_unique' });
}
