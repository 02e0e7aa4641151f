/**
 * The content pipeline's publisher (examples/content-pipeline/jobs/publish*.ts) through `run`
 * subprocesses on SQLite: a worker of the publish queue sends rewritten posts to two target
 * chats of the fake Bot API. Posts go out in order (a text, an album with its caption, a photo
 * whose text is too long for a caption); a 429 is waited out without spending an attempt (the
 * worker has one try per job); a 403 on one target cancels the publication (what went to the
 * other target is deleted, the post failed, the admin told); `run pipeline:republish` publishes
 * it again. The posts are stored as the rewriter leaves them, so no OpenAI is needed here;
 * test/examples.content-pipeline.test.ts runs the whole chain.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { PIPELINE_CONFIG, WAIT_MS } from './examples.content-pipeline.fixture.js';
import { CHAT_ARRIVAL_SLACK_MS } from './telegram.sender.fixture.js';

const ADMIN = 4242;
// Private chats (positive ids): Telegram's 1 a second per chat keeps the test short; a channel
// (negative id) would space sends 3 s apart (20 a minute).
const T1 = 5001;
const T2 = 5002;

describe('content pipeline: the publisher (sqlite)', () => {
  let app: TestApp;
  let bot: FakeBotApi;
  let store: PipelineStore;
  let worker: CliProcess;
  let worker2: CliProcess | undefined;
  let env: Record<string, string>;
  let nextMessage = 1;

  /** A post as the rewriter leaves it: in progress, stage rewritten. */
  const rewrittenPost = async (
    text: string,
    files: Array<{ kind: 'photo' | 'document'; name: string }> = [],
  ): Promise<Post> => {
    const media = files.map((f, i) => {
      writeFileSync(path.join(app.cwd, 'media', f.name), Buffer.alloc(100 + i, i));
      return { kind: f.kind, id: `${nextMessage}${i}`, path: `media/${f.name}` };
    });
    const saved = await store.posts.save({
      channel: '@news',
      messageId: nextMessage++,
      text: `original ${nextMessage}`,
      media,
    });
    if (!saved.saved) throw new Error('the post was not stored');
    await store.posts.update(saved.post.id, {
      status: 'in_progress',
      stage: 'rewritten',
      rewritten: { title: '', text },
    });
    return saved.post;
  };
  /** Queues pipeline.publish jobs, in this order, with one `run queue:dispatch`. */
  const publish = async (...posts: Post[]) => {
    const input = posts.map((p) => JSON.stringify({ postId: p.id })).join('\n') + '\n';
    const r = await app.run(['queue:dispatch', 'pipeline.publish'], { env, input });
    expect(r.code, r.stderr).toBe(0);
  };
  const settled = (id: number, status: string) =>
    waitFor(
      async () => {
        const p = await store.posts.find(id);
        return p?.status === status ? p : undefined;
      },
      { timeoutMs: WAIT_MS, message: `post ${id} did not become ${status}` },
    ) as Promise<Post>;
  /** What a chat got: the method and the text or caption of each message, in order. */
  const got = (chat: number) =>
    bot.sent
      .filter((s) => s.chatId === chat)
      .map((s) => [s.method, s.message.text ?? s.message.caption ?? null]);
  const notices = () => bot.sent.filter((s) => s.chatId === ADMIN).map((s) => s.message.text);

  beforeAll(async () => {
    app = await createApp(
      'sqlite',
      `export { default } from ${JSON.stringify(PIPELINE_CONFIG)};\n`,
    );
    mkdirSync(path.join(app.cwd, 'media'));
    // The fake counts a chat's sends where they arrive, our limits where they are taken: a
    // window 300 ms short of Telegram's second absorbs the way between (as the sender's tests,
    // test/telegram.sender.fixture.ts, CHAT_ARRIVAL_SLACK_MS).
    bot = await startFakeBotApi({
      chats: [ADMIN, T1, T2],
      limits: { privateChat: { count: 1, windowMs: 1000 - CHAT_ARRIVAL_SLACK_MS } },
    });
    store = await openPipelineStore({ knex: (await app.db()).knex });
    env = {
      TELEGRAM_BOT_TOKEN: bot.token,
      TELEGRAM_API_ROOT: bot.apiRoot,
      PIPELINE_TARGETS: `${T1},${T2}`,
      PIPELINE_ADMIN_CHAT: String(ADMIN),
      // One publication at a time, in order; one try, so an attempt spent on a 429 would fail it.
      PIPELINE_PUBLISH_CONCURRENCY: '1',
      PIPELINE_PUBLISH_TRIES: '1',
      LOG_LEVEL: 'info',
    };
    worker = app.spawn(['queue:work', '--queue', 'publish', '--sleep', '100ms'], {
      env,
      timeoutMs: 120_000,
    });
  }, 60_000);

  afterAll(async () => {
    await worker2?.stop('SIGTERM', 15_000);
    const stopped = await worker?.stop('SIGTERM', 15_000);
    await closePipelineStore();
    await bot?.close();
    await app?.cleanup();
    expect(stopped?.code, `${stopped?.stdout}\n${stopped?.stderr}`).toBe(0);
  }, 60_000);

  it('publishes posts in order to every target: a text, an album with its caption, a photo then a long text', async () => {
    const text = await rewrittenPost('A plain post.');
    const album = await rewrittenPost('Two photos from the launch.', [
      { kind: 'photo', name: 'a.png' },
      { kind: 'photo', name: 'b.png' },
    ]);
    const long = 'Word '.repeat(300).trim(); // 1499 characters: over a caption's 1024
    const photo = await rewrittenPost(long, [{ kind: 'photo', name: 'c.png' }]);
    await publish(text, album, photo);
    for (const p of [text, album, photo]) {
      const done = await settled(p.id, 'succeeded');
      expect(done.stage).toBe('published');
      expect(done.error).toBeNull();
    }
    const expected = [
      ['sendMessage', 'A plain post.'],
      ['sendMediaGroup', 'Two photos from the launch.'],
      ['sendMediaGroup', null],
      ['sendPhoto', null],
      ['sendMessage', long],
    ];
    expect(got(T1)).toEqual(expected);
    expect(got(T2)).toEqual(expected);
    const albumSent = bot.sent.filter((s) => s.chatId === T1 && s.method === 'sendMediaGroup');
    expect(albumSent.map((s) => s.message.photo?.at(-1)?.file_id)).toEqual([
      'upload-a.png-100',
      'upload-b.png-101',
    ]);
    // What was sent is recorded per target, with Telegram's message ids.
    expect(
      (await store.sent.forPost(album.id)).map((s) => [s.target, s.item, s.messageIds]),
    ).toEqual([
      [String(T1), 0, [2, 3]],
      [String(T2), 0, [2, 3]],
    ]);
    // No 429 on the way: the publisher kept Telegram's limits.
    expect(bot.calls.filter((c) => c.status === 429)).toEqual([]);
    expect(notices()).toEqual([]);
  }, 40_000);

  it('waits out a 429 retry_after without spending an attempt', async () => {
    const post = await rewrittenPost('After the flood.');
    bot.failNext(1, 429, { method: 'sendMessage', retryAfter: 2 });
    await publish(post);
    await settled(post.id, 'succeeded');
    const flood = bot.calls.find((c) => c.status === 429)!;
    expect(flood.chatId).toBe(T1);
    const [sent] = bot.sent.filter((s) => s.chatId === T1 && s.message.text === 'After the flood.');
    // retry_after 2: nothing went to the chat before the 2 s were up (the fake's clock).
    expect(sent!.at - flood.at).toBeGreaterThanOrEqual(1900);
    // With one try per job, an attempt spent on the 429 would have failed the job.
    expect(await (await app.db()).knex('failed_jobs').select()).toEqual([]);
  }, 30_000);

  it('cancels the whole publication on a critical error: deletes what was sent, fails the post, tells the admin', async () => {
    bot.block(T2, 'kicked');
    const post = await rewrittenPost('Half published?', [
      { kind: 'photo', name: 'd.png' },
      { kind: 'photo', name: 'e.png' },
    ]);
    await publish(post);
    const failed = await settled(post.id, 'failed');
    // T1 got the album, T2 refused it: the album was deleted from T1.
    const onT1 = bot.sent.filter((s) => s.chatId === T1 && s.params.media !== undefined);
    const ids = onT1.slice(-2).map((s) => s.message.message_id);
    expect(bot.deleted.map((d) => [d.chatId, d.messageId])).toEqual(ids.map((id) => [T1, id]));
    expect(bot.bot(0).chats.message(T1, ids[0])).toBeUndefined();
    expect(failed.error).toBe(
      `publishing cancelled: sendMediaGroup to ${T2}: 403 Forbidden: bot was kicked from the group chat (the bot cannot post there: make it an admin of ${T2}). The 2 messages already sent were deleted`,
    );
    expect(await store.sent.forPost(post.id)).toEqual([]);
    await waitFor(() => notices().length === 1, { timeoutMs: WAIT_MS });
    expect(notices()[0]).toBe(
      `Post ${post.id} (@news, message ${post.messageId}) failed: ${failed.error}`,
    );
    const failedJobs = await (await app.db()).knex('failed_jobs').select();
    expect(failedJobs).toHaveLength(1);
    expect(String(failedJobs[0].exception)).toContain('publishing cancelled');
  }, 30_000);

  it('publishes a failed post again with run pipeline:republish, and says so for an unknown id', async () => {
    bot.unblock(T2);
    const [post] = await store.posts.list({ status: 'failed' });
    const r = await app.run(['pipeline:republish', String(post!.id), '--json'], {
      env,
      spawn: true,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ postId: post!.id, deduplicated: false });
    const done = await settled(post!.id, 'succeeded');
    expect(done.stage).toBe('published');
    expect(done.error).toBeNull();
    expect(got(T2).slice(-2)).toEqual([
      ['sendMediaGroup', 'Half published?'],
      ['sendMediaGroup', null],
    ]);
    expect((await store.sent.forPost(post!.id)).map((s) => s.target)).toEqual([
      String(T1),
      String(T2),
    ]);

    const unknown = await app.run(['pipeline:republish', '9999'], { env, spawn: true });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no post 9999 in pipeline_posts.');
    const bad = await app.run(['pipeline:republish', 'abc'], { env, spawn: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'pipeline:republish takes a post id (a positive whole number), got "abc".',
    );
  }, 40_000);

  it('tries a publication again after PIPELINE_PUBLISH_RETRY_SECONDS when Telegram is down', async () => {
    // A worker with 3 tries and a 2 s retry wait in place of the one-try worker.
    const stopped = await worker.stop('SIGTERM', 15_000);
    expect(stopped.code, stopped.stderr).toBe(0);
    const retryEnv = { ...env, PIPELINE_PUBLISH_TRIES: '3', PIPELINE_PUBLISH_RETRY_SECONDS: '2' };
    worker2 = app.spawn(['queue:work', '--queue', 'publish', '--sleep', '100ms'], {
      env: retryEnv,
      timeoutMs: 60_000,
    });
    const post = await rewrittenPost('While Telegram was down.');
    bot.failNext(1, 502, { method: 'sendMessage' });
    await publish(post);
    await settled(post.id, 'succeeded');
    const outage = bot.calls.find((c) => c.status === 502)!;
    const [sent] = bot.sent.filter((s) => s.message.text === 'While Telegram was down.');
    expect(sent!.at - outage.at).toBeGreaterThanOrEqual(1900);
    // The failed attempt is on record with the reason; one message per target, none twice.
    const attempts = (await waitFor(
      async () => {
        const rows = await (await app.db()).knex('job_attempts').select();
        const row = rows.find((r) => String(r.error).includes('502'));
        return row ? rows : undefined;
      },
      { timeoutMs: WAIT_MS, message: 'the failed attempt was not recorded' },
    ))!;
    expect(attempts.map((r) => String(r.error))).toContainEqual(
      expect.stringContaining(
        `Telegram is unreachable or failing: sendMessage to ${T1}: 502 Bad Gateway`,
      ),
    );
    expect(bot.sent.filter((s) => s.message.text === 'While Telegram was down.')).toHaveLength(2);
  }, 40_000);

  it('publishes a cancelled post again when its failed job is retried (run queue:retry, the dashboard)', async () => {
    bot.block(T2, 'kicked');
    const post = await rewrittenPost('Retried from the failed jobs.');
    await publish(post);
    await settled(post.id, 'failed');
    bot.unblock(T2);
    const r = await app.run(['queue:retry', 'all'], { env });
    expect(r.code, r.stderr).toBe(0);
    const done = await settled(post.id, 'succeeded');
    expect(done.stage).toBe('published');
    // T1's first copy was deleted with the cancellation; each target has it once now.
    const copies = bot.sent.filter((s) => s.message.text === 'Retried from the failed jobs.');
    expect(copies.map((s) => s.chatId)).toEqual([T1, T1, T2]);
    expect(bot.deleted.at(-1)).toMatchObject({
      chatId: T1,
      messageId: copies[0]!.message.message_id,
    });
  }, 30_000);

  it('republishes with --force a post whose publication was cancelled while it waited', async () => {
    const post = await rewrittenPost('Cancelled before it ran.');
    const queued = await app.run(
      ['queue:dispatch', 'pipeline.publish', '--delay', '1h', '--json'],
      { env, input: `${JSON.stringify({ postId: post.id })}\n` },
    );
    expect(queued.code, queued.stderr).toBe(0);
    const [job] = JSON.parse(queued.stdout) as Array<{ id: string }>;
    const cancel = await app.run(['queue:cancel', job!.id], { env });
    expect(cancel.code, cancel.stderr).toBe(0);
    // No job ran to mark it: the post is still in progress, and republish says what to do.
    expect((await store.posts.find(post.id))?.status).toBe('in_progress');
    const refused = await app.run(['pipeline:republish', String(post.id)], { env, spawn: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Post ${post.id} is in_progress`);
    expect(refused.stderr).toContain(
      'was cancelled while it waited (run queue:cancel), or is gone, pass --force',
    );
    const forced = await app.run(['pipeline:republish', String(post.id), '--force', '--json'], {
      env,
      spawn: true,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ postId: post.id, step: 'publish' });
    await settled(post.id, 'succeeded');
    expect(
      bot.sent.filter((s) => s.message.text === 'Cancelled before it ran.').map((s) => s.chatId),
    ).toEqual([T1, T2]);
  }, 30_000);
});
