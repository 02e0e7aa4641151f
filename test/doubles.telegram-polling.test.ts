// The fake Bot API's getUpdates, driven through grammY's real client: offset, limit, timeout,
// allowed_updates, the hold, and the 409s. All traffic stays on 127.0.0.1.
import { Bot, GrammyError, HttpError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';
import { waitFor } from './helpers/wait.js';

let api: FakeBotApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(options: Parameters<typeof startFakeBotApi>[0] = {}) {
  api = await startFakeBotApi(options);
  const bot = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
  return { api, bot };
}

/** The promise's outcome, caught so an early rejection is not "unhandled". */
function settle<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  const settled = promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return { state, settled };
}

describe('fake Bot API: getUpdates', () => {
  it('holds a long poll until an update is pushed, then returns it', async () => {
    const { api, bot } = await start({ firstUpdateId: 500 });
    const poll = settle(bot.api.getUpdates({ timeout: 20 }));
    await waitFor(() => api.holding(), { message: 'the long poll was never held' });
    expect(poll.state.done).toBe(false);

    const pushed = api.pushMessage(42, 'hello');
    await poll.settled;
    expect(poll.state.error).toBeUndefined();
    expect(poll.state.value).toEqual([pushed]);
    expect(pushed).toMatchObject({
      update_id: 500,
      message: { chat: { id: 42, type: 'private' }, from: { id: 42 }, text: 'hello' },
    });
    expect(api.holding()).toBe(false);
  });

  it('answers at once with what is queued, and hands unconfirmed updates out again', async () => {
    const { api, bot } = await start({ firstUpdateId: 10 });
    api.pushMessage(1, 'a');
    api.pushMessage(2, 'b');
    expect((await bot.api.getUpdates({ timeout: 20 })).map((u) => u.update_id)).toEqual([10, 11]);
    expect((await bot.api.getUpdates()).map((u) => u.update_id)).toEqual([10, 11]);
  });

  it('confirms every update below the offset', async () => {
    const { api, bot } = await start({ firstUpdateId: 100 });
    for (const text of ['a', 'b', 'c']) api.pushMessage(7, text);

    const rest = await bot.api.getUpdates({ offset: 101 });
    expect(rest.map((u) => u.update_id)).toEqual([101, 102]);
    expect(api.pendingUpdates().map((u) => u.update_id)).toEqual([101, 102]);

    expect(await bot.api.getUpdates({ offset: 103 })).toEqual([]);
    expect(api.pendingUpdates()).toEqual([]);
  });

  it('keeps only the last -offset updates for a negative offset', async () => {
    const { api, bot } = await start({ firstUpdateId: 1 });
    for (const text of ['a', 'b', 'c']) api.pushMessage(7, text);
    const last = await bot.api.getUpdates({ offset: -1 });
    expect(last.map((u) => u.update_id)).toEqual([3]);
    expect(api.pendingUpdates()).toHaveLength(1);
  });

  it('returns at most limit updates, 100 when none is given', async () => {
    const { api, bot } = await start({ firstUpdateId: 1 });
    for (let i = 0; i < 105; i += 1) api.pushMessage(7, `m${i}`);
    expect((await bot.api.getUpdates({ limit: 2 })).map((u) => u.update_id)).toEqual([1, 2]);
    expect(await bot.api.getUpdates()).toHaveLength(100);
    expect(await bot.api.getUpdates({ offset: 101, limit: 100 })).toHaveLength(5);
  });

  it('returns [] when the timeout passes with nothing to hand out', async () => {
    const { api, bot } = await start();
    const started = Date.now();
    expect(await bot.api.getUpdates({ timeout: 1 })).toEqual([]);
    // Held for the timeout, not answered at once (a lower bound only: machines stall).
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(api.holding()).toBe(false);
    expect(await bot.api.getUpdates({ timeout: 0 })).toEqual([]);
  });

  it('ends the hold when the client aborts, so the next poll is not a conflict', async () => {
    const { api, bot } = await start();
    const aborter = new AbortController();
    // grammY types its signal as the abort-controller package's, which Node's does not match.
    const signal = aborter.signal as unknown as Parameters<typeof bot.api.getUpdates>[1];
    const poll = settle(bot.api.getUpdates({ timeout: 20 }, signal));
    await waitFor(() => api.holding());
    aborter.abort();
    await poll.settled;
    expect(poll.state.error).toBeInstanceOf(HttpError);
    await waitFor(() => !api.holding(), { message: 'the aborted poll is still held' });
    await waitFor(() => api.calls.some((c) => c.method === 'getUpdates' && c.status === 0));

    const next = settle(bot.api.getUpdates({ timeout: 20 }));
    await waitFor(() => api.holding());
    const pushed = api.pushMessage(3, 'after');
    await next.settled;
    expect(next.state.value).toEqual([pushed]);
  });

  it('filters by allowed_updates from the call that sets it on, keeping what was queued', async () => {
    const { api, bot } = await start({ firstUpdateId: 1 });
    api.pushMessage(5, 'queued before the filter');
    expect(
      await bot.api.getUpdates({ allowed_updates: ['callback_query'], limit: 1 }),
    ).toHaveLength(1);

    expect(api.pushMessage(5, 'filtered out')).toBeNull();
    const query = api.pushCallbackQuery(5, 'press');
    const got = await bot.api.getUpdates({ offset: 2 });
    expect(got).toEqual([query]);

    // [] restores the default: every type but chat_member and the reactions.
    await bot.api.getUpdates({ offset: 3, allowed_updates: [] });
    const reaction = {
      chat: { id: 5, type: 'private' },
      message_id: 1,
      date: 0,
      old_reaction: [],
      new_reaction: [],
    };
    expect(api.pushUpdate({ message_reaction: reaction })).toBeNull();
    expect(api.pushMessage(5, 'allowed again')).not.toBeNull();
  });

  it('ends a held poll with 409 when another getUpdates for the bot arrives', async () => {
    const { api, bot } = await start();
    const other = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
    const first = settle(bot.api.getUpdates({ timeout: 20 }));
    await waitFor(() => api.holding());
    const second = settle(other.api.getUpdates({ timeout: 20 }));

    await first.settled;
    expect(first.state.error).toBeInstanceOf(GrammyError);
    expect((first.state.error as GrammyError).error_code).toBe(409);
    expect((first.state.error as GrammyError).description).toBe(
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    );
    await waitFor(() => api.holding());
    const pushed = api.pushMessage(9, 'to the survivor');
    await second.settled;
    expect(second.state.value).toEqual([pushed]);
  });

  it('refuses getUpdates with 409 while a webhook is set, until deleteWebhook', async () => {
    const { api, bot } = await start();
    api.setWebhook('https://bot.example.test/hook');
    const error = await bot.api.getUpdates().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(409);
    expect((error as GrammyError).description).toBe(
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    );
    expect((await bot.api.getWebhookInfo()).url).toBe('https://bot.example.test/hook');

    api.pushMessage(4, 'waiting');
    expect(await bot.api.deleteWebhook()).toBe(true);
    expect(await bot.api.getUpdates()).toHaveLength(1);
    expect(await bot.api.getWebhookInfo()).toMatchObject({ url: '', pending_update_count: 1 });
  });

  it('answers a held poll with 409 when a webhook is set over the API', async () => {
    const { api, bot } = await start();
    const poll = settle(bot.api.getUpdates({ timeout: 20 }));
    await waitFor(() => api.holding());
    const plain = await bot.api
      .setWebhook('http://insecure.example.test/')
      .catch((e: unknown) => e);
    expect((plain as GrammyError).description).toBe(
      'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
    );
    expect(api.holding()).toBe(true);
    await bot.api.setWebhook('https://bot.example.test/hook', { drop_pending_updates: true });
    await poll.settled;
    expect((poll.state.error as GrammyError).error_code).toBe(409);
  });

  it('continues from a restarted update id, even below the offset the client holds', async () => {
    const { api, bot } = await start({ firstUpdateId: 9000 });
    api.pushMessage(6, 'old');
    await bot.api.getUpdates({ offset: 9001 });
    expect(() => api.restartUpdateIds(20)).not.toThrow();
    const fresh = api.pushMessage(6, 'a week later');
    expect(fresh?.update_id).toBe(20);
    // The client still sends the offset it had; the fake must not treat it as confirming 20.
    expect(await bot.api.getUpdates({ offset: 9001 })).toEqual([fresh]);
    expect(await bot.api.getUpdates({ offset: 21 })).toEqual([]);

    api.pushMessage(6, 'unconfirmed');
    expect(() => api.restartUpdateIds(1)).toThrow(
      'restartUpdateIds: 1 updates are still unconfirmed; Telegram restarts ids only after a week without updates, so confirm them first (getUpdates with an offset past them)',
    );
  });

  it('drives grammY bot.start(): the handler runs and its reply is sent', async () => {
    const { api, bot } = await start({ firstUpdateId: 1 });
    bot.command('start', (ctx) => ctx.reply(`hi ${ctx.from?.first_name}`));
    const running = bot.start({ timeout: 20 });
    api.pushMessage(77, '/start', { id: 77, first_name: 'Ann' });
    await waitFor(() => api.sent.length === 1, { message: 'the bot never replied' });
    expect(api.sent[0]).toMatchObject({
      chatId: 77,
      method: 'sendMessage',
      message: { text: 'hi Ann' },
    });
    await bot.stop();
    await running;
    // bot.stop() confirms what it handled.
    expect(api.pendingUpdates()).toEqual([]);
  });

  it('keeps each bot token its own queue and refuses unknown tokens with 401', async () => {
    const { api } = await start({ tokens: ['111:aaaaaaaaaa', '222:bbbbbbbbbb'], firstUpdateId: 1 });
    const one = new Bot('111:aaaaaaaaaa', { client: { apiRoot: api.apiRoot } });
    const two = new Bot('222:bbbbbbbbbb', { client: { apiRoot: api.apiRoot } });
    api.bot('222:bbbbbbbbbb').pushMessage(8, 'for two');
    expect(await one.api.getUpdates()).toEqual([]);
    expect(await two.api.getUpdates()).toHaveLength(1);
    expect((await two.api.getMe()).id).toBe(222);

    const stranger = new Bot('333:cccccccccc', { client: { apiRoot: api.apiRoot } });
    const error = await stranger.api.getMe().catch((e: unknown) => e);
    expect((error as GrammyError).error_code).toBe(401);
    expect((error as GrammyError).description).toBe('Unauthorized');
  });
});
