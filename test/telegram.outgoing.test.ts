/**
 * Replies made inside a handler go through the sender: routeOutgoing's transformer on a real
 * grammY Bot talking to the fake Bot API. Queued methods become telegram.send payloads and
 * answer a placeholder; calls whose result the handler needs, and uploads, go to Telegram.
 */
import { Bot, InputFile } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routeOutgoing } from '../src/telegram/outgoing.js';
import type { TelegramSendPayload } from '../src/telegram/send-payload.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';

describe('routeOutgoing', () => {
  let api: FakeBotApi;
  let bot: Bot;
  let queued: TelegramSendPayload[];
  beforeEach(async () => {
    api = await startFakeBotApi({ chats: [42, -100] });
    bot = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
    queued = [];
    routeOutgoing(
      bot,
      { name: 'support', token: api.token, id: '1', source: 'test' },
      async (p) => {
        queued.push(p);
        return { id: String(queued.length), deduplicated: false };
      },
    );
  });
  afterEach(() => api.close());

  it('turns a send into a telegram.send job and answers a placeholder message', async () => {
    const message = await bot.api.sendMessage(42, 'hi', { parse_mode: 'HTML' });
    expect(queued).toEqual([
      {
        bot: 'support',
        method: 'sendMessage',
        params: { chat_id: 42, text: 'hi', parse_mode: 'HTML' },
      },
    ]);
    expect(message).toMatchObject({ message_id: 0, chat: { id: 42, type: 'private' }, text: 'hi' });
    expect(api.sent).toHaveLength(0);
  });

  it('a reply inside a handler is queued too', async () => {
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    await bot.init();
    await bot.handleUpdate({
      update_id: 1,
      message: {
        message_id: 5,
        date: 0,
        chat: { id: -100, type: 'group', title: 'g' },
        from: { id: 7, is_bot: false, first_name: 'u' },
        text: 'ping',
      },
    });
    expect(queued).toEqual([
      { bot: 'support', method: 'sendMessage', params: { chat_id: -100, text: 'echo: ping' } },
    ]);
    expect(api.sent).toHaveLength(0);
  });

  it('calls whose answer matters, and uploads, go straight to Telegram', async () => {
    const me = await bot.api.getMe();
    expect(me.is_bot).toBe(true);
    await bot.api.sendPhoto(42, new InputFile(Buffer.from('png'), 'a.png'));
    await bot.api.sendChatAction(42, 'typing');
    expect(queued).toHaveLength(0);
    expect(api.calls.filter((c) => c.status === 200).map((c) => c.method)).toEqual([
      'getMe',
      'sendPhoto',
      'sendChatAction',
    ]);
  });
});
