/**
 * The content pipeline example (examples/content-pipeline) end to end through `run`
 * subprocesses the way an operator runs it: a worker of the rewrite, publish and collector queues
 * against the channels double (a JSON file), the fake OpenAI server and the fake Bot API (the
 * admin's notices, and the target the rewritten posts are published to; the publisher's own
 * cases are in examples.content-pipeline.publish.test.ts). Posts are collected once (the same
 * message again and a repost are not), their media downloaded and published with them (the
 * downloads' own cases are in examples.content-pipeline.media.test.ts), each
 * is rewritten by one gpt.complete, an unusable reply is retried with a notice, and a prompt over
 * the model's context fails its post with the reason and a notice, and a flood wait is told and
 * waited out. On SQLite and PostgreSQL (it passes on Redis too: add pipelineSpecs('redis')).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  closePipelineStore,
  openPipelineStore,
  type PipelineStore,
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
import { startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

const ADMIN = 4242;
/** The channel posts are published to (a private chat id: 1 send a second, not 20 a minute). */
const TARGET = 5151;
const REWRITE = { title: 'Rewritten', text: 'A rewritten post.', image_prompt: null };

function pipelineSpecs(backend: AppBackend) {
  describeBackend(backend, 'content pipeline example', () => {
    let app: TestApp;
    let bot: FakeBotApi;
    let openai: FakeOpenAi;
    let channels: ChannelsFile;
    let store: PipelineStore;
    let worker: CliProcess;
    let env: Record<string, string | undefined>;

    const collect = async (channel: string) => {
      const r = await app.run(
        ['queue:dispatch', 'pipeline.collect', '--payload', JSON.stringify({ channel })],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
    };
    const post = (channel: string, messageId: number) =>
      until(
        async () => (await store.posts.list({ channel })).find((p) => p.messageId === messageId),
        `${channel}/${messageId} was not stored`,
      );
    const settled = (id: number, stage: 'published' | 'collected', status: string) =>
      until(async () => {
        const p = await store.posts.find(id);
        return p?.stage === stage && p.status === status ? p : undefined;
      }, `post ${id} did not reach ${status}/${stage}`);
    /** What the target got: each message's method and its text or caption. */
    const published = () =>
      bot.sent
        .filter((s) => s.chatId === TARGET)
        .map((s) => [s.method, s.message.text ?? s.message.caption ?? '']);
    const notices = () =>
      bot.sent.filter((s) => s.chatId === ADMIN).map((s) => s.message.text ?? '');
    /** The collector's summary lines, from the log file (LOG_FILE: storage/logs/app.log). */
    const summaries = (channel: string): string[] => {
      const file = path.join(app.cwd, 'storage', 'logs', 'app.log');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.includes(`pipeline: ${channel}: read`))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
    };

    beforeAll(async () => {
      app = await createApp(
        backend,
        `export { default } from ${JSON.stringify(PIPELINE_CONFIG)};\n`,
      );
      // The target's window is 300 ms short of Telegram's second, for the way from our limit to
      // the fake (test/telegram.sender.fixture.ts, CHAT_ARRIVAL_SLACK_MS).
      bot = await startFakeBotApi({
        chats: [ADMIN, TARGET],
        limits: { privateChat: { count: 1, windowMs: 700 } },
      });
      openai = await startFakeOpenAi();
      channels = ChannelsFile.create(path.join(app.cwd, 'channels.json'));
      store = await openPipelineStore({ knex: (await app.db()).knex });
      env = pipelineEnv(
        { bot, openai, channels },
        { channelNames: '@news,@digest', admin: ADMIN, target: TARGET },
        { PIPELINE_TEXT_LIMIT: '60' },
      );
      worker = app.spawn(
        ['queue:work', '--queue', 'rewrite,publish,collector', '--sleep', '100ms'],
        {
          env,
          timeoutMs: 120_000,
        },
      );
    }, 60_000);

    afterAll(async () => {
      const stopped = await worker?.stop('SIGTERM', 15_000);
      await closePipelineStore();
      await openai?.close();
      await bot?.close();
      await app?.cleanup();
      expect(stopped?.code, `${stopped?.stdout}\n${stopped?.stderr}`).toBe(0);
    }, 60_000);

    it('collects each post once, rewrites it with one request, and trims the text', async () => {
      openai.replyAlways({
        kind: 'json',
        value: { title: 'Rewritten', text: 'A rewritten post. '.repeat(5), image_prompt: null },
      });
      channels.post('@news', { text: 'First  post', media: [{ kind: 'photo', id: '501' }] });
      channels.post('@news', { text: 'Second post' });
      // An album: two messages, one post with both photos and the caption.
      channels.post('@news', {
        text: 'Album',
        groupedId: '77',
        media: [{ kind: 'photo', id: '601' }],
      });
      channels.post('@news', { text: '', groupedId: '77', media: [{ kind: 'photo', id: '602' }] });
      // A repost of the first post elsewhere: same text (up to spaces) and media.
      channels.post('@digest', { text: 'First post', media: [{ kind: 'photo', id: '501' }] });
      await collect('@news');
      const first = await post('@news', 1);
      const second = await post('@news', 2);
      const album = await post('@news', 3);
      expect(album.media.map((m) => m.id)).toEqual(['601', '602']);
      expect(album.groupedId).toBe('77');
      for (const p of [first, second, album]) {
        // Rewritten, then published (afterRewrite queues the publication).
        const done = await settled(p.id, 'published', 'succeeded');
        // PIPELINE_TEXT_LIMIT=60: cut at the last whole sentence.
        expect(done.rewritten).toEqual({
          title: 'Rewritten',
          text: 'A rewritten post. A rewritten post. A rewritten post.',
          image_prompt: null,
        });
      }
      // Each published once to the target with its downloaded media, the title and text as the
      // caption: the photo alone, the text, the album as one media group (two messages).
      const text = 'Rewritten\n\nA rewritten post. A rewritten post. A rewritten post.';
      for (const p of [first, album])
        for (const [i, m] of (await store.posts.find(p.id))!.media.entries())
          expect(m.path).toBe(
            path.join(app.cwd, 'storage', 'pipeline', 'media', `${p.id}-${i}-${m.id}.jpg`),
          );
      expect(published().sort()).toEqual(
        [
          ['sendPhoto', text],
          ['sendMessage', text],
          ['sendMediaGroup', text],
          ['sendMediaGroup', ''],
        ].sort(),
      );
      expect(openai.requests).toHaveLength(3);
      expect(openai.requests.map((r) => r.messages?.at(-1)?.content).sort()).toEqual([
        'Album\n\n[2 attached media: photo, photo]',
        'First  post\n\n[1 attached media: photo]',
        'Second post',
      ]);

      await collect('@digest');
      await waitFor(() => summaries('@digest').length === 1, { timeoutMs: WAIT_MS });
      expect(summaries('@digest')[0]).toContain(
        'read 1, stored 0, duplicates 0 by message and 1 by content',
      );
      expect(await store.posts.list({ channel: '@digest' })).toEqual([]);

      // The same messages again (the cursor lost): nothing new, no request.
      await store.knex('pipeline_cursors').where({ channel: '@news' }).delete();
      await collect('@news');
      await waitFor(() => summaries('@news').length === 2, { timeoutMs: WAIT_MS });
      expect(summaries('@news')[1]).toContain(
        'read 4, stored 0, duplicates 3 by message and 0 by content',
      );
      expect(await store.cursors.get('@news')).toBe(4);
      expect((await store.posts.list()).length).toBe(3);
      expect(openai.requests).toHaveLength(3);
      expect(notices()).toEqual([]);
    });

    it('retries an unusable reply, telling the admin it retries because of a generation error', async () => {
      openai.reset();
      openai.replyNext(2, { kind: 'invalid-json' });
      openai.replyAlways({ kind: 'json', value: REWRITE });
      channels.post('@news', { text: 'Third post' });
      await collect('@news');
      const third = await post('@news', 5);
      expect((await settled(third.id, 'published', 'succeeded')).rewritten).toEqual(REWRITE);
      expect(openai.requests).toHaveLength(3);
      await waitFor(() => notices().length === 2, { timeoutMs: WAIT_MS });
      expect(notices()).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Post ${third.id}: retrying the rewrite because of a generation error \\(attempt 1 of 3\\): the reply of fake-model is not valid JSON`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^Post ${third.id}: retrying the rewrite because of a generation error \\(attempt 2 of 3\\)`,
          ),
        ),
      ]);
    });

    it('fails a post over the token limit with the reason, and tells the admin', async () => {
      openai.reset();
      openai.replyNext(1, { kind: 'context-length', max: 8192, tokens: 9000 });
      channels.post('@news', { text: 'A very long post' });
      await collect('@news');
      const long = await post('@news', 6);
      const failed = await until(async () => {
        const p = await store.posts.find(long.id);
        return p?.status === 'failed' ? p : undefined;
      }, 'the post did not fail');
      expect(failed.stage).toBe('collected');
      expect(failed.error).toMatch(
        /^over the model's token limit: context_length_exceeded: the request has 9000 tokens, fake-model takes at most 8192\./,
      );
      await waitFor(() => notices().length === 3, { timeoutMs: WAIT_MS });
      expect(notices()[2]).toMatch(
        new RegExp(
          `^Post ${long.id} \\(@news, message 6\\) failed: over the model's token limit: context_length_exceeded`,
        ),
      );
      expect(openai.requests).toHaveLength(1);
      expect(await store.posts.countByStatus()).toMatchObject({ succeeded: 4, failed: 1 });
      // Four posts: the album is two messages.
      expect(published()).toHaveLength(5);
    });

    it('waits out a flood wait, telling the admin, then collects', async () => {
      openai.reset();
      openai.replyAlways({ kind: 'json', value: REWRITE });
      channels.fault({ op: 'readSince', channel: '@news', kind: 'flood_wait', seconds: 1 });
      channels.post('@news', { text: 'After the flood' });
      await collect('@news');
      const later = await post('@news', 7);
      await settled(later.id, 'published', 'succeeded');
      expect(notices()[3]).toMatch(
        /^Telegram rate-limits account double: it must wait 1s before messages\.GetHistory\. Collecting resumes after that\.$/,
      );
      await until(async () => summaries('@news').find((l) => l.includes('stored 1')), 'no summary');
    });

    it('run pipeline:republish rewrites again a post whose rewrite failed, and publishes it', async () => {
      openai.reset();
      openai.replyAlways({ kind: 'json', value: REWRITE });
      const long = await post('@news', 6);
      expect(long).toMatchObject({ status: 'failed', stage: 'collected' });
      const r = await app.run(['pipeline:republish', String(long.id), '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ postId: long.id, step: 'rewrite' });
      const done = await settled(long.id, 'published', 'succeeded');
      expect(done.error).toBeNull();
      expect(openai.requests).toHaveLength(1);
      expect(published().at(-1)).toEqual(['sendMessage', 'Rewritten\n\nA rewritten post.']);
    });
  });
}

pipelineSpecs('sqlite');
pipelineSpecs('pgsql');
