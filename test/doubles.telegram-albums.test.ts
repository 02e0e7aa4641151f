// The fake Bot API's media groups (sendMediaGroup, by URL and uploaded as multipart) and its
// deletes (deleteMessage, deleteMessages), driven through grammY's real client on a clock the
// test moves.
import { Bot, GrammyError, InputFile } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';

/** The fields of an album's Message these tests read (grammY types them per media kind). */
interface AlbumMessage {
  message_id: number;
  caption?: string;
  media_group_id?: string;
  photo?: Array<{ file_id: string }>;
  document?: { file_name?: string; file_size?: number };
}

let api: FakeBotApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(chats: number[]) {
  const clock = { now: 1_700_000_000_000 };
  api = await startFakeBotApi({ now: () => clock.now, chats });
  const bot = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
  return { api, bot, clock };
}

async function failure(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError))
    throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('fake Bot API: albums and deletes', () => {
  it('sends a media group as messages of one group, the caption on the first', async () => {
    const { api, bot } = await start([42]);
    const messages = (await bot.api.sendMediaGroup(42, [
      { type: 'photo', media: 'https://example.test/a.png', caption: 'two photos' },
      { type: 'photo', media: 'AgACAgIAAx0' },
    ])) as AlbumMessage[];
    expect(messages.map((m) => m.message_id)).toEqual([1, 2]);
    expect(messages[0]!.caption).toBe('two photos');
    expect(messages[1]!.caption).toBeUndefined();
    expect(messages[0]!.media_group_id).toBeDefined();
    expect(messages[1]!.media_group_id).toBe(messages[0]!.media_group_id);
    expect(messages[1]!.photo?.[0]?.file_id).toBe('AgACAgIAAx0');
    expect(api.sent.map((s) => [s.method, s.chatId, s.message.message_id])).toEqual([
      ['sendMediaGroup', 42, 1],
      ['sendMediaGroup', 42, 2],
    ]);
  });

  it('takes uploaded files as multipart attach:// parts', async () => {
    const { api, bot } = await start([42]);
    const messages = (await bot.api.sendMediaGroup(42, [
      { type: 'document', media: new InputFile(Buffer.from('first file'), 'a.txt') },
      { type: 'document', media: new InputFile(Buffer.from('second'), 'b.txt') },
    ])) as AlbumMessage[];
    expect(messages.map((m) => m.document?.file_name)).toEqual(['a.txt', 'b.txt']);
    expect(messages.map((m) => m.document?.file_size)).toEqual([10, 6]);
    expect(api.sent[0]!.params.media).toEqual([
      { type: 'document', media: expect.stringMatching(/^attach:\/\//) },
      { type: 'document', media: expect.stringMatching(/^attach:\/\//) },
    ]);
  });

  it('counts an album as one send against the chat limit', async () => {
    const { api, bot, clock } = await start([42]);
    const album = [
      { type: 'photo' as const, media: 'p1' },
      { type: 'photo' as const, media: 'p2' },
      { type: 'photo' as const, media: 'p3' },
    ];
    await bot.api.sendMediaGroup(42, album);
    // One a second to a private chat: the album took the second's one send.
    const flood = await failure(bot.api.sendMessage(42, 'too soon'));
    expect(flood.error_code).toBe(429);
    clock.now += 1000;
    await bot.api.sendMessage(42, 'a second later');
    expect(api.stats().byChat.get(42)).toEqual({ sent: 4, tooManyRequests: 1 });
  });

  it('refuses a group of one, of eleven, or with an unknown type', async () => {
    const { api, bot } = await start([42]);
    const one = await failure(bot.api.sendMediaGroup(42, [{ type: 'photo', media: 'p' }]));
    expect(one.description).toBe('Bad Request: media group must have 2-10 items');
    const eleven = Array.from({ length: 11 }, (_, i) => ({
      type: 'photo' as const,
      media: `${i}`,
    }));
    expect((await failure(bot.api.sendMediaGroup(42, eleven))).error_code).toBe(400);
    const odd = await failure(
      bot.api.raw.sendMediaGroup({
        chat_id: 42,
        media: [
          { type: 'photo', media: 'p' },
          { type: 'sticker', media: 's' },
        ],
      } as never),
    );
    expect(odd.description).toBe('Bad Request: wrong type of media 1 in the media group');
    expect(api.sent).toEqual([]);
  });

  it('deletes one message, or several skipping the missing ones, and logs each', async () => {
    const { api, bot, clock } = await start([42]);
    const [a, b] = await bot.api.sendMediaGroup(42, [
      { type: 'photo', media: 'p1' },
      { type: 'photo', media: 'p2' },
    ]);
    clock.now += 1000;
    const text = await bot.api.sendMessage(42, 'text');
    expect(await bot.api.deleteMessage(42, text.message_id)).toBe(true);
    const again = await failure(bot.api.deleteMessage(42, text.message_id));
    expect(again.description).toBe('Bad Request: message to delete not found');
    expect(await bot.api.deleteMessages(42, [a!.message_id, b!.message_id, 999])).toBe(true);
    expect(api.deleted.map((d) => [d.chatId, d.messageId])).toEqual([
      [42, 3],
      [42, 1],
      [42, 2],
    ]);
    expect(api.bot(0).chats.message(42, a!.message_id)).toBeUndefined();
    const none = await failure(bot.api.deleteMessages(42, []));
    expect(none.error_code).toBe(400);
    const unknown = await failure(bot.api.deleteMessages(7, [1]));
    expect(unknown.description).toBe('Bad Request: chat not found');
  });
});
