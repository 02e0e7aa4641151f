/**
 * Replies made inside a `telegram.update` handler, end to end on SQLite: `run longpoll` stores
 * the user's message, a worker of both queues runs the handler, and its ctx.reply goes out as a
 * telegram.send job (telegram.replies 'queue', the default) or straight to Telegram ('direct').
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/wait.js';
import { createSenderApp, type SenderApp } from './telegram.sender.fixture.js';

const config = (replies: string) => `
import { Composer } from 'grammy';
import { defineConfig } from 'jobsmith';

const handler = new Composer();
handler.on('message:text', async (ctx) => {
  const sent = await ctx.reply(\`echo: \${ctx.message.text}\`);
  // The placeholder (queued) or the real message (direct).
  await ctx.api.sendChatAction(ctx.chat.id, sent.message_id === 0 ? 'typing' : 'upload_photo');
});

export default defineConfig({ telegram: { handler${replies} } });
`;

describe('replies inside handlers', () => {
  let t: SenderApp | undefined;
  afterEach(() => t?.cleanup());

  it.each([
    ['queued', '', 'typing'],
    ['direct', ", replies: 'direct'", 'upload_photo'],
  ])(
    'telegram.replies: %s',
    async (mode, replies, action) => {
      t = await createSenderApp('sqlite', { chats: [42], config: config(replies) });
      const poller = t.app.spawn(['longpoll'], { env: t.env, timeoutMs: 60_000 });
      const worker = t.app.spawn(
        ['queue:work', '--queue', 'telegram-updates,telegram', '--sleep', '200ms'],
        { env: t.env, timeoutMs: 60_000 },
      );
      const api = t.api;
      await waitFor(() => api.holding(), { timeoutMs: 20_000 });
      api.pushMessage(42, 'hi');
      await waitFor(() => api.sent.some((s) => s.params.text === 'echo: hi'), {
        timeoutMs: 20_000,
      });
      await waitFor(() => api.calls.some((c) => c.method === 'sendChatAction'));
      expect(api.calls.find((c) => c.method === 'sendChatAction')!.params.action).toBe(action);
      await poller.stop();
      const result = await worker.stop();
      if (mode === 'queued') expect(result.stdout).toMatch(/telegram\.send #\S+ DONE/);
      else expect(result.stdout).not.toMatch(/telegram\.send/);
    },
    60_000,
  );
});
