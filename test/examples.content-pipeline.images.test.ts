/**
 * The content pipeline's image generator (examples/content-pipeline/jobs/images*.ts), end to
 * end through `run` subprocesses: a worker of the collector and rewrite queues and one of the
 * imagegen queue, against the channels double, the fake OpenAI server (chat and images) and the
 * fake Bot API (the admin's notices, and the target the posts are published to). A rewrite that
 * asks for a picture gets one drawn, stored, attached and published with the post; a failing image endpoint is tried 3 times, then the post goes on without one
 * (or, with PIPELINE_IMAGE_REQUIRED=true, fails); the cleanup deletes old unattached images and
 * their files and keeps attached ones; `run pipeline:images:delete` deletes an unattached one.
 * On SQLite and PostgreSQL.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  closePipelineStore,
  openPipelineStore,
  type PipelineStore,
  type Post,
} from '../examples/content-pipeline/store.js';
import { createApp, describeBackend, type AppBackend, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import {
  PIPELINE_CONFIG,
  pipelineEnv,
  until,
  WAIT_MS,
} from './examples.content-pipeline.fixture.js';
import { ChannelsFile } from './doubles/channels/index.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { FAKE_PNG_BASE64, startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

const ADMIN = 4343;
/** Where posts are published (a private chat id: 1 send a second). */
const TARGET = 5353;
const PROMPT = 'A lighthouse at dawn, watercolour';
const HOUR_MS = 3_600_000;

function imageSpecs(backend: AppBackend) {
  describeBackend(backend, 'content pipeline images', () => {
    let app: TestApp;
    let bot: FakeBotApi;
    let openai: FakeOpenAi;
    let channels: ChannelsFile;
    let store: PipelineStore;
    let worker: CliProcess;
    let imager: CliProcess;
    let env: Record<string, string | undefined>;
    let imaged: Post;

    const imagesDir = () => path.join(app.cwd, 'storage', 'pipeline', 'images');
    const notices = () =>
      bot.sent.filter((s) => s.chatId === ADMIN).map((s) => s.message.text ?? '');
    /** What the target got for each publication: the method and the photo's caption or text. */
    const published = () =>
      bot.sent
        .filter((s) => s.chatId === TARGET)
        .map((s) => [s.method, s.message.caption ?? s.message.text ?? null]);
    const startImager = (extra: Record<string, string> = {}) =>
      app.spawn(['queue:work', '--queue', 'imagegen', '--sleep', '100ms'], {
        env: { ...env, ...extra },
        timeoutMs: 120_000,
      });
    /** A new post in @news, collected, its rewrite asking for `imagePrompt`; resolves with its row. */
    const newPost = async (text: string, imagePrompt: string | null): Promise<Post> => {
      openai.replyAlways({
        kind: 'json',
        value: { title: 'Rewritten', text: `${text}, rewritten.`, image_prompt: imagePrompt },
      });
      const { id } = channels.post('@news', { text });
      const r = await app.run(
        ['queue:dispatch', 'pipeline.collect', '--payload', JSON.stringify({ channel: '@news' })],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      return until(
        async () => (await store.posts.list({ channel: '@news' })).find((p) => p.messageId === id),
        `@news/${id} was not stored`,
      );
    };
    const settled = (id: number, test: (p: Post) => boolean, what: string) =>
      until(async () => {
        const p = await store.posts.find(id);
        return p && test(p) ? p : undefined;
      }, `post ${id} did not reach ${what}`);

    beforeAll(async () => {
      app = await createApp(
        backend,
        `export { default } from ${JSON.stringify(PIPELINE_CONFIG)};\n`,
      );
      bot = await startFakeBotApi({ chats: [ADMIN, TARGET] });
      openai = await startFakeOpenAi();
      channels = ChannelsFile.create(path.join(app.cwd, 'channels.json'));
      store = await openPipelineStore({ knex: (await app.db()).knex });
      env = pipelineEnv(
        { bot, openai, channels },
        { channelNames: '@news', admin: ADMIN, target: TARGET },
        { PIPELINE_IMAGE_KEEP: '1h' },
      );
      worker = app.spawn(
        ['queue:work', '--queue', 'rewrite,publish,collector', '--sleep', '100ms'],
        { env, timeoutMs: 120_000 },
      );
      imager = startImager();
    }, 60_000);

    afterAll(async () => {
      const stopped = await Promise.all([
        worker?.stop('SIGTERM', 15_000),
        imager?.stop('SIGTERM', 15_000),
      ]);
      await closePipelineStore();
      await openai?.close();
      await bot?.close();
      await app?.cleanup();
      for (const s of stopped) expect(s?.code, `${s?.stdout}\n${s?.stderr}`).toBe(0);
    }, 60_000);

    it('draws the picture a rewrite asks for, stores its file, attaches it and publishes the post with it', async () => {
      const post = await newPost('The old lighthouse is restored', PROMPT);
      // imaged, then handed to the publisher: published with its picture.
      imaged = await settled(post.id, (p) => p.stage === 'published', 'published');
      expect(imaged.status).toBe('succeeded');
      expect(imaged.imageId).not.toBeNull();
      expect(published()).toEqual([
        ['sendPhoto', 'Rewritten\n\nThe old lighthouse is restored, rewritten.'],
      ]);
      expect(imaged.rewritten).toEqual({
        title: 'Rewritten',
        text: 'The old lighthouse is restored, rewritten.',
        image_prompt: PROMPT,
      });
      const image = (await store.images.find(imaged.imageId!))!;
      expect(image.postId).toBe(post.id);
      expect(path.dirname(image.path)).toBe(imagesDir());
      expect(image.path).toMatch(new RegExp(`post-${post.id}-\\d+-[0-9a-f]{6}\\.png$`));
      expect(readFileSync(image.path).toString('base64')).toBe(FAKE_PNG_BASE64);
      // One request, unless an attempt failed after it (a busy database on a loaded machine): a
      // retry asks again, within the job's 3 tries, and the image it stored is the one attached.
      const requests = openai.images.requests;
      expect(requests.length).toBeGreaterThanOrEqual(1);
      expect(requests.length).toBeLessThanOrEqual(3);
      for (const request of requests)
        expect(request).toMatchObject({
          model: 'gpt-image-1',
          prompt: PROMPT,
          size: '1024x1024',
          status: 200,
        });
      expect(notices()).toEqual([]);
    });

    it('tries a failing image endpoint 3 times, then the post goes on without an image, the admin told', async () => {
      openai.reset();
      openai.images.replyAlways({ kind: 'server-error' });
      const post = await newPost('Storm warning for the coast', 'Waves over a sea wall');
      await waitFor(() => notices().length === 1, {
        timeoutMs: WAIT_MS,
        message: 'the admin was not told',
      });
      expect(notices()[0]).toMatch(
        new RegExp(
          `^Post ${post.id} \\(@news, message ${post.messageId}\\) goes on without an image: GPT request to gpt-image-1 failed \\(500 server_error\\): The server had an error`,
        ),
      );
      expect(openai.images.requests.map((r) => r.status)).toEqual([500, 500, 500]);
      // Published as text alone.
      const after = await settled(post.id, (p) => p.stage === 'published', 'published');
      expect(after).toMatchObject({ status: 'succeeded', imageId: null });
      expect(published().at(-1)).toEqual([
        'sendMessage',
        'Rewritten\n\nStorm warning for the coast, rewritten.',
      ]);
      // Nothing recorded for it: the rows come after a successful request. (An unattached row,
      // post_id null, can be the earlier test's: an attempt that failed after its request, on a
      // loaded machine, leaves its image for the scheduled cleanup.)
      const attached = (await store.knex('pipeline_images').whereNotNull('post_id')).map((r) =>
        Number(r.post_id),
      );
      expect(attached).toEqual([imaged.id]);
      expect(await store.knex('pipeline_images').where({ post_id: post.id })).toEqual([]);
    });

    it('marks a post cancelled when its image job is cancelled while it runs, and republishes it', async () => {
      openai.reset();
      // Long enough to be cancelled mid-request; the cancel aborts the request at once.
      openai.images.replyNext(1, { kind: 'slow', delayMs: 15_000 });
      const post = await newPost('A quiet harbour at night', 'Boats at rest under lanterns');
      const running = await until(async () => {
        const r = await app.run(['queue:list', '--tag', `post:${post.id}`, '--json'], { env });
        const rows = r.code === 0 ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>) : [];
        return rows.find((j) => j.name === 'pipeline.image' && j.status === 'in_progress');
      }, 'the image job did not start');
      const cancel = await app.run(
        ['queue:cancel', String(running.id), '--reason', 'wrong picture'],
        { env },
      );
      expect(cancel.code, cancel.stderr).toBe(0);
      const cancelled = await settled(post.id, (p) => p.status === 'cancelled', 'cancelled');
      expect(cancelled.error).toContain('wrong picture');
      expect(cancelled.imageId).toBeNull();
      const again = await app.run(['pipeline:republish', String(post.id), '--json'], {
        env,
        spawn: true,
      });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ postId: post.id, step: 'publish' });
      await settled(post.id, (p) => p.status === 'succeeded', 'succeeded');
    });

    it('with PIPELINE_IMAGE_REQUIRED=true, fails a post whose image is refused, with the reason', async () => {
      expect((await imager.stop('SIGTERM', 15_000)).code).toBe(0);
      imager = startImager({ PIPELINE_IMAGE_REQUIRED: 'true' });
      openai.reset();
      openai.images.replyNext(1, { kind: 'moderation-blocked' });
      const post = await newPost('A heated debate', 'Two politicians shouting');
      const failed = await settled(post.id, (p) => p.status === 'failed', 'failed');
      expect(failed.stage).toBe('rewritten');
      expect(failed.error).toMatch(
        /^no image: GPT request to gpt-image-1 was refused \(400 moderation_blocked\): Your request was rejected by the safety system/,
      );
      // A refusal is not retried.
      expect(openai.images.requests).toHaveLength(1);
      await waitFor(() => notices().length === 2, { timeoutMs: WAIT_MS });
      expect(notices()[1]).toMatch(
        new RegExp(`^Post ${post.id} \\(@news, message ${post.messageId}\\) failed: no image: `),
      );
    });

    it('the cleanup deletes old unattached images and their files, and keeps attached and recent ones', async () => {
      mkdirSync(imagesDir(), { recursive: true });
      const file = (name: string) => {
        const p = path.join(imagesDir(), name);
        writeFileSync(p, Buffer.from(FAKE_PNG_BASE64, 'base64'));
        return p;
      };
      const old = await store.images.add(file('old.png'));
      const gone = await store.images.add(path.join(imagesDir(), 'never-written.png'));
      const recent = await store.images.add(file('recent.png'));
      const attached = (await store.images.find(imaged.imageId!))!;
      // Older than PIPELINE_IMAGE_KEEP (1h): both unattached ones, and the attached one.
      await store
        .knex('pipeline_images')
        .whereIn('id', [old.id, gone.id, attached.id])
        .update({ created_at: Date.now() - 2 * HOUR_MS });

      const r = await app.run(['schedule:test', 'pipeline.images-cleanup'], { env });
      expect(r.code, r.stderr).toBe(0);
      // The row goes first, then the file.
      // One run deletes both old ones, one after the other: wait for the second too.
      await until(
        async () =>
          (await store.images.find(old.id)) ||
          existsSync(old.path) ||
          (await store.images.find(gone.id))
            ? undefined
            : true,
        'the old images (and the old file) were not deleted',
      );
      expect(await store.images.find(recent.id)).toBeDefined();
      expect(existsSync(recent.path)).toBe(true);
      expect(await store.images.find(attached.id)).toEqual({
        ...attached,
        createdAt: expect.any(Number),
      });
      expect(existsSync(attached.path)).toBe(true);
      expect((await store.posts.find(imaged.id))!.imageId).toBe(attached.id);
    });

    it('run pipeline:images:delete deletes an unattached image and its file, and refuses others', async () => {
      const [recent] = await store.images.outdated(Date.now() + HOUR_MS, 10);
      expect(recent!.postId).toBeNull();
      const deleted = await app.run(['pipeline:images:delete', String(recent!.id)], { env });
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stdout).toBe(`Deleted image ${recent!.id} and its file ${recent!.path}.\n`);
      expect(await store.images.find(recent!.id)).toBeUndefined();
      expect(existsSync(recent!.path)).toBe(false);

      const refused = await app.run(['pipeline:images:delete', String(imaged.imageId)], { env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `Image ${imaged.imageId} is attached to post ${imaged.id}: only an unattached image can be deleted.`,
      );
      expect(await store.images.find(imaged.imageId!)).toBeDefined();

      const unknown = await app.run(['pipeline:images:delete', '999999'], { env });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No image 999999 in pipeline_images.');

      const usage = await app.run(['pipeline:images:delete', 'x7'], { env });
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain(
        'Invalid image id "x7": it takes a positive whole number (pipeline_images.id).',
      );
    });

    it('has an alert per pipeline queue, and the imagegen one fires on its failure rate, telling the admin', async () => {
      const list = await app.run(['alerts:list', '--json'], { env });
      expect(list.code, list.stderr).toBe(0);
      const alerts = JSON.parse(list.stdout) as Array<{ name: string; notify: string[] }>;
      expect(alerts.map((a) => a.name).sort()).toEqual([
        'pipeline.collector-failing',
        'pipeline.imagegen-failing',
        'pipeline.publish-failing',
        'pipeline.rewrite-failing',
      ]);
      expect(alerts[0]!.notify).toEqual([`telegram:${ADMIN}`]);

      // imagegen so far: 3 failed attempts and a refusal against 2 that succeeded (> 0.2).
      // Workers flush job_metrics every few seconds: check until it shows.
      const imagegen = await until(async () => {
        const r = await app.run(['alerts:check', '--json'], { env });
        const checked = JSON.parse(r.stdout) as {
          alerts: Array<{ name: string; state: string; value: number }>;
        };
        const alert = checked.alerts.find((a) => a.name === 'pipeline.imagegen-failing');
        return alert?.state === 'firing' ? alert : undefined;
      }, 'pipeline.imagegen-failing did not fire');
      expect(imagegen.value).toBeGreaterThan(0.2);
      const notice = await until(
        async () => notices().find((n) => n.includes('pipeline.imagegen-failing')),
        'the admin was not told',
      );
      expect(notice).toMatch(/^\[FIRING\] pipeline\.imagegen-failing: /);
    });
  });
}

imageSpecs('sqlite');
imageSpecs('pgsql');
