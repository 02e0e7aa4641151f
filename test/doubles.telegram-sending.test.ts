// The fake Bot API's send methods, limits and error replies, driven through grammY's real
// client. The limits run on a clock the test moves, so "within a second" is exact.
import { Bot, GrammyError, HttpError, InputFile } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startFakeBotApi,
  type FakeBotApi,
  type FakeBotApiOptions,
} from './doubles/telegram/index.js';

let api: FakeBotApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A fake on a manual clock: `clock.now` is what the limits see. */
async function start(options: FakeBotApiOptions = {}) {
  const clock = { now: 1_700_000_000_000 };
  api = await startFakeBotApi({ now: () => clock.now, ...options });
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

describe('fake Bot API: sending', () => {
  it('sends a message and logs it with the time it was accepted', async () => {
    const { api, bot, clock } = await start({ chats: [42] });
    const message = await bot.api.sendMessage(42, 'hello', {
      reply_markup: { inline_keyboard: [[{ text: 'ok', callback_data: 'ok' }]] },
    });
    expect(message).toMatchObject({
      message_id: 1,
      chat: { id: 42, type: 'private' },
      from: { id: api.bots[0].id, is_bot: true },
      date: Math.floor(clock.now / 1000),
      text: 'hello',
      reply_markup: { inline_keyboard: [[{ text: 'ok', callback_data: 'ok' }]] },
    });
    expect(api.sent).toHaveLength(1);
    expect(api.sent[0]).toMatchObject({
      chatId: 42,
      method: 'sendMessage',
      at: clock.now,
      message,
    });
    expect(api.calls.map((c) => [c.method, c.status])).toEqual([['sendMessage', 200]]);
  });

  it('refuses a chat it does not know with 400 chat not found', async () => {
    const { api, bot } = await start();
    const error = await failure(bot.api.sendMessage(404, 'anyone?'));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe('Bad Request: chat not found');
    expect(api.sent).toEqual([]);
  });

  it('answers 429 with retry_after to a second message within a second to a private chat', async () => {
    const { api, bot, clock } = await start({ chats: [42, 43] });
    await bot.api.sendMessage(42, 'one');
    clock.now += 400;
    const error = await failure(bot.api.sendMessage(42, 'two'));
    expect(error.error_code).toBe(429);
    expect(error.description).toBe('Too Many Requests: retry after 1');
    expect(error.parameters.retry_after).toBe(1);
    // Another chat has its own budget.
    await bot.api.sendMessage(43, 'elsewhere');

    clock.now += 600; // a full second after the first: allowed again
    await bot.api.sendMessage(42, 'two, later');
    expect(api.sent.map((s) => s.message.text)).toEqual(['one', 'elsewhere', 'two, later']);
    expect(api.stats().byChat.get(42)).toEqual({ sent: 2, tooManyRequests: 1 });
    expect(api.stats().tooManyRequests).toBe(1);
  });

  it('allows 20 messages a minute to a group, with retry_after counting down', async () => {
    const { api, bot, clock } = await start({ chats: [-500] });
    for (let i = 0; i < 20; i += 1) {
      await bot.api.sendMessage(-500, `m${i}`);
      clock.now += 1000;
    }
    // The first of the 20 was 20 s ago: it leaves the minute's window in 40 s.
    expect((await failure(bot.api.sendMessage(-500, 'late'))).parameters.retry_after).toBe(40);
    clock.now += 39_500;
    expect((await failure(bot.api.sendMessage(-500, 'late'))).description).toBe(
      'Too Many Requests: retry after 1',
    );
    clock.now += 500;
    await bot.api.sendMessage(-500, 'on time');
    expect(api.stats().byChat.get(-500)).toEqual({ sent: 21, tooManyRequests: 2 });
  });

  it('allows 30 messages a second per bot across chats', async () => {
    const chats = Array.from({ length: 31 }, (_, i) => i + 1);
    const { bot, clock } = await start({ chats });
    for (const chat of chats.slice(0, 30)) await bot.api.sendMessage(chat, 'burst');
    expect((await failure(bot.api.sendMessage(31, 'one too many'))).error_code).toBe(429);
    clock.now += 1000;
    await bot.api.sendMessage(31, 'next second');
  });

  it('takes limits from the options, false lifting one', async () => {
    const { bot } = await start({
      chats: [42],
      limits: { privateChat: false, perBot: { count: 2, windowMs: 1000 } },
    });
    await bot.api.sendMessage(42, 'a');
    await bot.api.sendMessage(42, 'b');
    expect((await failure(bot.api.sendMessage(42, 'c'))).parameters.retry_after).toBe(1);
  });

  it('answers 403 for a blocked chat with the reason Telegram gives', async () => {
    const { api, bot } = await start();
    api.block(42);
    const error = await failure(bot.api.sendMessage(42, 'still there?'));
    expect(error.error_code).toBe(403);
    expect(error.description).toBe('Forbidden: bot was blocked by the user');
    api.block(43, 'deactivated');
    expect((await failure(bot.api.sendChatAction(43, 'typing'))).description).toBe(
      'Forbidden: user is deactivated',
    );
    api.unblock(42);
    await bot.api.sendMessage(42, 'welcome back');
    expect(api.sent.map((s) => s.chatId)).toEqual([42]);
  });

  it('answers 400 with migrate_to_chat_id for a group upgraded to a supergroup', async () => {
    const { api, bot } = await start({ chats: [-77] });
    api.migrate(-77, -1001234567890);
    const error = await failure(bot.api.sendMessage(-77, 'hello group'));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe('Bad Request: group chat was upgraded to a supergroup chat');
    expect(error.parameters.migrate_to_chat_id).toBe(-1001234567890);
    const moved = await bot.api.sendMessage(-1001234567890, 'hello supergroup');
    expect(moved.chat).toMatchObject({ id: -1001234567890, type: 'supergroup' });
  });

  it('fails the next calls with an injected 5xx, then answers again', async () => {
    const { api, bot } = await start({ chats: [42] });
    api.failNext(2, 502);
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(bot.api.sendMessage(42, 'x'));
      expect([error.error_code, error.description]).toEqual([502, 'Bad Gateway']);
    }
    await bot.api.sendMessage(42, 'through');
    expect(api.sent).toHaveLength(1);
    expect(api.calls.map((c) => c.status)).toEqual([502, 502, 200]);
  });

  it('fails only the method named, and can drop the connection', async () => {
    const { api, bot, clock } = await start({ chats: [42] });
    api.failNext(1, 'reset', { method: 'sendMessage' });
    api.failNext(1, 429, { method: 'sendChatAction', retryAfter: 7 });
    await bot.api.getMe();
    const dropped = await bot.api.sendMessage(42, 'lost').catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(HttpError);
    expect((await failure(bot.api.sendChatAction(42, 'typing'))).parameters.retry_after).toBe(7);
    clock.now += 1000;
    await bot.api.sendMessage(42, 'again');
    expect(api.sent.map((s) => s.message.text)).toEqual(['again']);
  });

  it('uploads a photo as multipart, and sends a document by file_id', async () => {
    const { api, bot, clock } = await start({ chats: [42] });
    const bytes = Buffer.from('not really a jpeg');
    const photo = await bot.api.sendPhoto(42, new InputFile(bytes, 'cat.jpg'), {
      caption: 'a cat',
    });
    expect(photo.caption).toBe('a cat');
    expect(photo.photo?.at(-1)).toMatchObject({ file_size: bytes.length });
    expect(api.sent[0].params.photo).toMatch(/^attach:\/\//);
    clock.now += 1000;
    const doc = await bot.api.sendDocument(42, 'BQACAgIAAx0', { caption: 'report' });
    expect(doc.document?.file_id).toBe('BQACAgIAAx0');
    clock.now += 1000;
    const missing = await failure(bot.api.sendPhoto(42, ''));
    expect(missing.description).toBe('Bad Request: there is no photo in the request');
  });

  it('edits, copies and forwards messages, and answers callback queries once', async () => {
    const { api, bot, clock } = await start({ chats: [42, 43] });
    const mine = await bot.api.sendMessage(42, 'draft');
    const edited = await bot.api.editMessageText(42, mine.message_id, 'final');
    expect(edited).toMatchObject({ message_id: mine.message_id, text: 'final' });
    expect(
      (await failure(bot.api.editMessageText(42, mine.message_id, 'final'))).description,
    ).toMatch(/^Bad Request: message is not modified/);
    expect((await failure(bot.api.editMessageText(42, 999, 'x'))).description).toBe(
      'Bad Request: message to edit not found',
    );

    const theirs = api.pushMessage(43, 'forward me')!.message!;
    clock.now += 1000;
    const forwarded = await bot.api.forwardMessage(42, 43, theirs.message_id);
    expect(forwarded).toMatchObject({ text: 'forward me', forward_origin: { type: 'user' } });
    clock.now += 1000;
    const copy = await bot.api.copyMessage(42, 43, theirs.message_id);
    expect(copy.message_id).toBe(forwarded.message_id + 1);
    expect((await failure(bot.api.copyMessage(42, 43, 999))).description).toBe(
      'Bad Request: message to copy not found',
    );

    const query = api.pushCallbackQuery(42, 'pressed', mine.message_id)!.callback_query!;
    expect(query.message?.message_id).toBe(mine.message_id);
    expect(await bot.api.answerCallbackQuery(query.id, { text: 'done' })).toBe(true);
    expect((await failure(bot.api.answerCallbackQuery(query.id))).description).toBe(
      'Bad Request: query is too old and response timeout expired or query ID is invalid',
    );
    expect(await bot.api.sendChatAction(42, 'typing')).toBe(true);
    expect(api.sent.map((s) => s.method)).toEqual(['sendMessage', 'forwardMessage', 'copyMessage']);
  });

  it('speaks the wire format to plain HTTP too: GET with a query, a form body, unknown methods', async () => {
    const { api } = await start({ chats: [42] });
    const base = `${api.apiRoot}/bot${api.token}`;
    const me = await (await fetch(`${base}/getMe`)).json();
    expect(me).toMatchObject({ ok: true, result: { id: api.bots[0].id, is_bot: true } });

    const form = await fetch(`${base}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '42', text: '123' }),
    });
    expect(form.status).toBe(200);
    expect(api.sent[0].message).toMatchObject({ chat: { id: 42 }, text: '123' });

    const unknown = await fetch(`${base}/sendTelepathy`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
    const empty = await fetch(`${base}/sendMessage?chat_id=42`);
    expect(await empty.json()).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: message text is empty',
    });
  });
});
