/**
 * The content pipeline example's store (examples/content-pipeline/store.ts) on a real SQLite
 * file and a fresh PostgreSQL database: dedup by message and by content, statuses with guards,
 * cursors that only move forward, images attached and cleaned.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  contentHash,
  openPipelineStore,
  type PipelineStore,
} from '../examples/content-pipeline/store.js';
import {
  createTestDatabase,
  describePg,
  tempDir,
  type TempDir,
  type TestDatabase,
} from './helpers/services.js';

describe('contentHash', () => {
  it('ignores whitespace runs, NFKC look-alikes and media order, not the text or media', () => {
    const base = contentHash('Hello  world\n', ['2', '1']);
    expect(contentHash(' Hello world', ['1', '2'])).toBe(base);
    // Full-width letters fold to ASCII under NFKC.
    expect(contentHash('Ｈｅｌｌｏ world', ['1', '2'])).toBe(base);
    expect(contentHash('Hello world!', ['1', '2'])).not.toBe(base);
    expect(contentHash('Hello world', ['1'])).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});

function storeSpecs(open: () => Promise<PipelineStore>) {
  let store: PipelineStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores a post once: the same message and a repost are duplicates', async () => {
    const first = await store.posts.save({
      channel: '@news',
      messageId: 10,
      text: 'Big  news',
      media: [{ kind: 'photo', id: '555' }],
    });
    expect(first.saved).toBe(true);
    if (!first.saved) return;
    expect(first.post).toMatchObject({
      channel: '@news',
      messageId: 10,
      text: 'Big  news',
      media: [{ kind: 'photo', id: '555' }],
      status: 'queued',
      stage: 'collected',
      rewritten: null,
      imageId: null,
      error: null,
    });
    expect(first.post.contentHash).toBe(contentHash('Big news', ['555']));

    const again = await store.posts.save({ channel: '@news', messageId: 10, text: 'edited' });
    expect(again).toEqual({ saved: false, duplicate: 'message', existingId: first.post.id });
    const repost = await store.posts.save({
      channel: '@other',
      messageId: 3,
      text: 'Big news ',
      media: [{ kind: 'photo', id: '555' }],
    });
    expect(repost).toEqual({ saved: false, duplicate: 'content', existingId: first.post.id });
    const distinct = await store.posts.save({ channel: '@other', messageId: 4, text: 'Other' });
    expect(distinct.saved).toBe(true);
    expect((await store.posts.list()).map((p) => p.messageId)).toEqual([10, 4]);
  });

  it('updates a post only while its guard holds, and counts statuses', async () => {
    const saved = await store.posts.save({ channel: '@c', messageId: 1, text: 'a' });
    if (!saved.saved) throw new Error('not saved');
    const id = saved.post.id;
    expect(
      await store.posts.update(id, { status: 'in_progress' }, { whenStatus: ['queued'] }),
    ).toBe(true);
    // A retried job finds it no longer queued and does nothing.
    expect(
      await store.posts.update(id, { status: 'in_progress' }, { whenStatus: ['queued'] }),
    ).toBe(false);
    const rewritten = { title: 'T', text: 'Body' };
    expect(await store.posts.update(id, { stage: 'rewritten', rewritten })).toBe(true);
    expect(await store.posts.find(id)).toMatchObject({
      status: 'in_progress',
      stage: 'rewritten',
      rewritten,
    });
    expect(await store.posts.markFailed(id, 'the model ran out of tokens')).toBe(true);
    await store.posts.update(id, { status: 'succeeded', error: null });
    expect(await store.posts.markFailed(id, 'late')).toBe(false);
    expect((await store.posts.find(id))?.status).toBe('succeeded');
    expect(await store.posts.countByStatus()).toEqual({
      queued: 0,
      in_progress: 0,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
    });
    expect(await store.posts.list({ status: 'failed' })).toEqual([]);
  });

  it('moves a cursor forward only', async () => {
    expect(await store.cursors.get('@c')).toBe(0);
    expect(await store.cursors.advance('@c', 7)).toBe(7);
    expect(await store.cursors.advance('@c', 5)).toBe(7);
    expect(await store.cursors.advance('@c', 9)).toBe(9);
    expect(await store.cursors.all()).toEqual({ '@c': 9 });
  });

  it('attaches an image to a post and lists only unattached ones for cleanup', async () => {
    const saved = await store.posts.save({ channel: '@c', messageId: 1, text: 'a' });
    if (!saved.saved) throw new Error('not saved');
    const old = await store.images.add('images/1.png');
    const kept = await store.images.add('images/2.png');
    expect(await store.images.attach(old.id, saved.post.id)).toBe(true);
    expect(await store.images.attach(kept.id, saved.post.id)).toBe(true);
    // The post's first image is unattached again when the second replaces it.
    expect((await store.posts.find(saved.post.id))?.imageId).toBe(kept.id);
    const later = Date.now() + 1000;
    expect((await store.images.unattached(later)).map((i) => i.id)).toEqual([old.id]);
    expect(await store.images.deleteUnattached(kept.id)).toBe(false);
    expect(await store.images.deleteUnattached(old.id)).toBe(true);
    expect(await store.images.find(old.id)).toBeUndefined();
    expect(await store.images.attach(kept.id, 9999)).toBe(false);
  });

  it('counts an image whose post is gone or points elsewhere as outdated, never an attached one', async () => {
    const saved = await store.posts.save({ channel: '@c', messageId: 1, text: 'a' });
    const other = await store.posts.save({ channel: '@c', messageId: 2, text: 'b' });
    if (!saved.saved || !other.saved) throw new Error('not saved');
    const attached = await store.images.add('images/a.png', saved.post.id);
    const unattached = await store.images.add('images/u.png');
    // Its post_id names a post that points at another image (a crash between the two sides).
    const stale = await store.images.add('images/s.png');
    await store.knex('pipeline_images').where({ id: stale.id }).update({ post_id: other.post.id });
    // Its post was deleted by hand.
    const orphan = await store.images.add('images/o.png', other.post.id);
    await store.knex('pipeline_posts').where({ id: other.post.id }).delete();
    const later = Date.now() + 1000;
    expect((await store.images.outdated(later)).map((i) => i.id)).toEqual([
      unattached.id,
      stale.id,
      orphan.id,
    ]);
    expect(await store.images.outdated(attached.createdAt)).toEqual([]);
    expect((await store.images.outdated(later, 1)).map((i) => i.id)).toEqual([unattached.id]);
    expect(await store.images.attachedTo(attached.id)).toBe(saved.post.id);
    expect(await store.images.attachedTo(stale.id)).toBeUndefined();
    expect(await store.images.deleteOutdated(attached.id)).toBe(false);
    for (const image of [unattached, stale, orphan])
      expect(await store.images.deleteOutdated(image.id)).toBe(true);
    expect(await store.images.deleteOutdated(unattached.id)).toBe(false);
    expect((await store.knex('pipeline_images').select('id')).map((r) => Number(r.id))).toEqual([
      attached.id,
    ]);
  });

  it('creates its tables once, when several stores open at once', async () => {
    const others = await Promise.all([open(), open(), open()]);
    await Promise.all(others.map((s) => s.close()));
    expect(await store.posts.list()).toEqual([]);
  });
}

describe('pipeline store (sqlite)', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir('jobsmith-pipeline-store-');
  });
  afterEach(() => dir.cleanup());
  storeSpecs(() =>
    openPipelineStore({ env: { DB_DATABASE: path.join(dir.path, 'db.sqlite') }, cwd: dir.path }),
  );
});

describePg('pipeline store (pgsql)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });
  storeSpecs(() => openPipelineStore({ env: { DB_CONNECTION: 'pgsql', DATABASE_URL: db.url } }));
});
