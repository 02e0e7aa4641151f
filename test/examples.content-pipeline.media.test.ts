/**
 * The content pipeline's media downloads (examples/content-pipeline/jobs/media.ts) through `run`
 * subprocesses on SQLite, against the channels double (whose media carry their bytes), the fake
 * OpenAI and the fake Bot API: the collector downloads a new post's media to
 * PIPELINE_STORAGE_DIR/media/, records each file's path on its media item, and the publisher
 * sends them (an album as one media group with the caption). A media item over
 * PIPELINE_MEDIA_MAX_BYTES is skipped, a failed download marked, and the post goes on with the
 * rest; a flood wait while downloading loses nothing (the retry downloads what is missing); with
 * PIPELINE_DOWNLOAD_MEDIA=false nothing is downloaded and the post goes as text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closePipelineStore,
  openPipelineStore,
  type PipelineStore,
  type Post,
} from '../examples/content-pipeline/store.js';
import { createApp, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import { PIPELINE_CONFIG, pipelineEnv, WAIT_MS } from './examples.content-pipeline.fixture.js';
import { ChannelsFile } from './doubles/channels/index.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';
import { CHAT_ARRIVAL_SLACK_MS } from './telegram.sender.fixture.js';

const ADMIN = 4242;
const TARGET = 5151;
const REWRITE = { title: 'Launch', text: 'Photos from the launch.', image_prompt: null };
const CAPTION = 'Launch\n\nPhotos from the launch.';
/** PIPELINE_MEDIA_MAX_BYTES of the test: the photos below fit, a 5000-byte document does not. */
const MAX_BYTES = 1000;

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
const base64 = (b: Buffer) => b.toString('base64');

describe('content pipeline: media downloads (sqlite)', () => {
  let app: TestApp;
  let bot: FakeBotApi;
  let openai: FakeOpenAi;
  let channels: ChannelsFile;
  let store: PipelineStore;
  let worker: CliProcess;
  let env: Record<string, string>;
  let mediaDir: string;

  const collect = async (channel: string) => {
    const r = await app.run(
      ['queue:dispatch', 'pipeline.collect', '--payload', JSON.stringify({ channel })],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
  };
  /** The channel's first post, once published. */
  const publishedPost = (channel: string) =>
    waitFor(
      async () => {
        const [p] = await store.posts.list({ channel });
        return p?.status === 'succeeded' && p.stage === 'published' ? p : undefined;
      },
      { timeoutMs: WAIT_MS, message: `the post of ${channel} was not published` },
    ) as Promise<Post>;
  /** What the target got since `from`: method, caption or text, and the uploaded file's id. */
  const got = (from: number) =>
    bot.sent
      .filter((s) => s.chatId === TARGET)
      .slice(from)
      .map((s) => [
        s.method,
        s.message.text ?? s.message.caption ?? null,
        s.message.photo?.at(-1)?.file_id ?? null,
      ]);
  const sentSoFar = () => bot.sent.filter((s) => s.chatId === TARGET).length;
  const summaries = (channel: string): string[] => {
    const file = path.join(app.cwd, 'storage', 'logs', 'app.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes(`pipeline: ${channel}: read`))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
  };
  const startWorker = (extra: Record<string, string> = {}) =>
    app.spawn(['queue:work', '--queue', 'rewrite,publish,collector', '--sleep', '100ms'], {
      env: { ...env, ...extra },
      timeoutMs: 120_000,
    });

  beforeAll(async () => {
    app = await createApp(
      'sqlite',
      `export { default } from ${JSON.stringify(PIPELINE_CONFIG)};\n`,
    );
    bot = await startFakeBotApi({
      chats: [ADMIN, TARGET],
      limits: { privateChat: { count: 1, windowMs: 1000 - CHAT_ARRIVAL_SLACK_MS } },
    });
    openai = await startFakeOpenAi();
    openai.replyAlways({ kind: 'json', value: REWRITE });
    channels = ChannelsFile.create(path.join(app.cwd, 'channels.json'));
    store = await openPipelineStore({ knex: (await app.db()).knex });
    mediaDir = path.join(app.cwd, 'storage', 'pipeline', 'media');
    env = pipelineEnv(
      { bot, openai, channels },
      { channelNames: '@media_album', admin: ADMIN, target: TARGET },
      { PIPELINE_PUBLISH_CONCURRENCY: '1', PIPELINE_MEDIA_MAX_BYTES: String(MAX_BYTES) },
    );
    worker = startWorker();
  }, 60_000);

  afterAll(async () => {
    const stopped = await worker?.stop('SIGTERM', 15_000);
    await closePipelineStore();
    await openai?.close();
    await bot?.close();
    await app?.cleanup();
    expect(stopped?.code, `${stopped?.stdout}\n${stopped?.stderr}`).toBe(0);
  }, 60_000);

  it('store: updateMedia sets one media item, keeps the rest of the JSON, and refuses another item', async () => {
    const saved = await store.posts.save({
      channel: '@media_store',
      messageId: 1,
      text: 'store',
      media: [
        { kind: 'photo', id: '11', size: 10 },
        { kind: 'document', id: '12', mimeType: 'application/pdf' },
      ],
    });
    if (!saved.saved) throw new Error('not stored');
    const id = saved.post.id;
    expect(await store.posts.updateMedia(id, 1, '12', { path: '/tmp/x.pdf' })).toBe(true);
    expect(
      await store.posts.updateMedia(id, 0, '11', { download: 'failed', downloadError: 'gone' }),
    ).toBe(true);
    // Index 0 is media 11, not 12; a post that is not there.
    expect(await store.posts.updateMedia(id, 0, '12', { path: '/tmp/y' })).toBe(false);
    expect(await store.posts.updateMedia(id + 1000, 0, '11', { path: '/tmp/y' })).toBe(false);
    const post = (await store.posts.find(id))!;
    expect(post.media).toEqual([
      { kind: 'photo', id: '11', size: 10, download: 'failed', downloadError: 'gone' },
      { kind: 'document', id: '12', mimeType: 'application/pdf', path: '/tmp/x.pdf' },
    ]);
    expect(post.contentHash).toBe(saved.post.contentHash);
    await store.knex('pipeline_posts').where({ id }).delete();
  });

  it('downloads an album of two photos, records their paths, and publishes it as one media group with the caption', async () => {
    const a = bytes(300, 1);
    const b = bytes(301, 2);
    channels.post('@media_album', {
      text: 'Launch album',
      groupedId: '91',
      media: [{ kind: 'photo', id: '701', mimeType: 'image/jpeg', data: base64(a) }],
    });
    channels.post('@media_album', {
      text: '',
      groupedId: '91',
      media: [{ kind: 'photo', id: '702', data: base64(b) }],
    });
    const from = sentSoFar();
    await collect('@media_album');
    const post = await publishedPost('@media_album');
    const files = [`${post.id}-0-701.jpg`, `${post.id}-1-702.jpg`];
    expect(post.media).toEqual([
      { kind: 'photo', id: '701', mimeType: 'image/jpeg', path: path.join(mediaDir, files[0]!) },
      { kind: 'photo', id: '702', path: path.join(mediaDir, files[1]!) },
    ]);
    expect(readFileSync(path.join(mediaDir, files[0]!))).toEqual(a);
    expect(readFileSync(path.join(mediaDir, files[1]!))).toEqual(b);
    // No temporary file left behind.
    expect(readdirSync(mediaDir).sort()).toEqual(files);
    expect(got(from)).toEqual([
      ['sendMediaGroup', CAPTION, `upload-${files[0]}-300`],
      ['sendMediaGroup', null, `upload-${files[1]}-301`],
    ]);
    const downloads = channels.calls().filter((c) => c.op === 'downloadMedia');
    expect(downloads.map((c) => c.channel)).toEqual(['@media_album', '@media_album']);
    await waitFor(() => summaries('@media_album').length === 1, { timeoutMs: WAIT_MS });
    expect(summaries('@media_album')[0]).toContain(
      'stored 1, duplicates 0 by message and 0 by content; media 2 downloaded, 0 skipped, 0 failed',
    );
  }, 30_000);

  it('skips a media item over PIPELINE_MEDIA_MAX_BYTES, marks a failed download, and publishes the rest', async () => {
    // The first download call of this channel fails as an expired file reference would.
    channels.fault({
      op: 'downloadMedia',
      channel: '@media_limits',
      kind: 'rpc',
      code: 400,
      message: 'FILE_REFERENCE_EXPIRED',
    });
    const photo = bytes(200, 3);
    channels.post('@media_limits', {
      text: 'Limits',
      groupedId: '92',
      media: [{ kind: 'photo', id: '801', data: base64(bytes(100, 4)) }],
    });
    // Telegram gives its size: not even downloaded.
    channels.post('@media_limits', {
      text: '',
      groupedId: '92',
      media: [
        { kind: 'document', id: '802', mimeType: 'application/pdf', size: 5000, data: 'AAAA' },
      ],
    });
    // No size given: downloaded, then found too big and not kept.
    channels.post('@media_limits', {
      text: '',
      groupedId: '92',
      media: [{ kind: 'video', id: '803', data: base64(bytes(MAX_BYTES + 1, 5)) }],
    });
    channels.post('@media_limits', {
      text: '',
      groupedId: '92',
      media: [{ kind: 'photo', id: '804', data: base64(photo) }],
    });
    const from = sentSoFar();
    await collect('@media_limits');
    const post = await publishedPost('@media_limits');
    const kept = `${post.id}-3-804.jpg`;
    expect(post.media).toEqual([
      {
        kind: 'photo',
        id: '801',
        download: 'failed',
        downloadError: expect.stringContaining('FILE_REFERENCE_EXPIRED'),
      },
      {
        kind: 'document',
        id: '802',
        mimeType: 'application/pdf',
        size: 5000,
        download: 'skipped',
        downloadError: `5000 bytes, over the ${MAX_BYTES} a document may have (PIPELINE_MEDIA_MAX_BYTES)`,
      },
      {
        kind: 'video',
        id: '803',
        download: 'skipped',
        downloadError: `${MAX_BYTES + 1} bytes, over the ${MAX_BYTES} a video may have (PIPELINE_MEDIA_MAX_BYTES)`,
      },
      { kind: 'photo', id: '804', path: path.join(mediaDir, kept) },
    ]);
    expect(readdirSync(mediaDir).filter((f) => f.startsWith(`${post.id}-`))).toEqual([kept]);
    // The one file left goes as a photo with the caption.
    expect(got(from)).toEqual([['sendPhoto', CAPTION, `upload-${kept}-200`]]);
    const downloads = channels
      .calls()
      .filter((c) => c.op === 'downloadMedia' && c.channel === '@media_limits');
    expect(downloads).toHaveLength(3);
    await waitFor(() => summaries('@media_limits').length === 1, { timeoutMs: WAIT_MS });
    expect(summaries('@media_limits')[0]).toContain('media 1 downloaded, 2 skipped, 1 failed');
  }, 30_000);

  it('loses no media to a flood wait while downloading: the retry downloads what is missing, then hands the post on', async () => {
    channels.fault({
      op: 'downloadMedia',
      channel: '@media_flood',
      kind: 'flood_wait',
      seconds: 1,
    });
    channels.post('@media_flood', {
      text: 'Flood',
      groupedId: '93',
      media: [{ kind: 'photo', id: '901', data: base64(bytes(150, 6)) }],
    });
    channels.post('@media_flood', {
      text: '',
      groupedId: '93',
      media: [{ kind: 'photo', id: '902', data: base64(bytes(151, 7)) }],
    });
    const from = sentSoFar();
    await collect('@media_flood');
    const post = await publishedPost('@media_flood');
    const files = [`${post.id}-0-901.jpg`, `${post.id}-1-902.jpg`];
    expect(post.media.map((m) => m.path)).toEqual(files.map((f) => path.join(mediaDir, f)));
    expect(got(from)).toEqual([
      ['sendMediaGroup', CAPTION, `upload-${files[0]}-150`],
      ['sendMediaGroup', null, `upload-${files[1]}-151`],
    ]);
    // The first attempt stopped at the flood wait, before handing the post on; the retries
    // (the account's upload.GetFile limit, pushed back by the wait, may take one more) found it
    // stored, and downloaded each file once.
    const downloads = channels
      .calls()
      .filter((c) => c.op === 'downloadMedia' && c.channel === '@media_flood');
    expect(downloads.map((c) => c.fault !== undefined)).toEqual([true, false, false]);
    await waitFor(() => summaries('@media_flood').length === 1, { timeoutMs: WAIT_MS });
    expect(summaries('@media_flood')[0]).toContain('stored 0, duplicates 1 by message');
    expect(
      bot.sent.filter((s) => s.chatId === ADMIN).map((s) => s.message.text ?? ''),
    ).toContainEqual(expect.stringContaining('must wait 1s before upload.GetFile'));
    expect(
      openai.requests.filter((r) => r.messages?.at(-1)?.content?.startsWith('Flood')),
    ).toHaveLength(1);
  }, 30_000);

  it('downloads nothing with PIPELINE_DOWNLOAD_MEDIA=false: the post goes as text', async () => {
    const stopped = await worker.stop('SIGTERM', 15_000);
    expect(stopped.code, stopped.stderr).toBe(0);
    worker = startWorker({ PIPELINE_DOWNLOAD_MEDIA: 'false' });
    channels.post('@media_off', {
      text: 'Off',
      media: [{ kind: 'photo', id: '1001', data: base64(bytes(100, 8)) }],
    });
    const calls = channels.calls().filter((c) => c.op === 'downloadMedia').length;
    const from = sentSoFar();
    await collect('@media_off');
    const post = await publishedPost('@media_off');
    expect(post.media).toEqual([{ kind: 'photo', id: '1001' }]);
    expect(got(from)).toEqual([['sendMessage', CAPTION, null]]);
    expect(channels.calls().filter((c) => c.op === 'downloadMedia')).toHaveLength(calls);
    expect(readdirSync(mediaDir).filter((f) => f.startsWith(`${post.id}-`))).toEqual([]);
  }, 40_000);
});
