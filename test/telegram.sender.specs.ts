/**
 * The rate-limited sender end to end on one backend: real `run queue:work --queue telegram`
 * processes send `telegram.send` jobs to the fake Bot API (test/doubles/telegram), which
 * enforces Telegram's limits and counts every 429. Called by telegram.sender.<backend>.test.ts.
 */
import { afterEach, expect, it } from 'vitest';
import { describeBackend, type AppBackend } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import {
  CHAT_ARRIVAL_SLACK_MS,
  createSenderApp,
  message,
  type SenderApp,
} from './telegram.sender.fixture.js';

export function senderSpecs(backend: AppBackend): void {
  describeBackend(backend, 'telegram.send', () => {
    let t: SenderApp | undefined;
    afterEach(async () => {
      await t?.cleanup();
      t = undefined;
    });

    it('three senders, 300 messages to 50 chats: each sent once, no 429, no chat over 1 a second', async () => {
      const chats = Array.from({ length: 50 }, (_, i) => 1000 + i);
      t = await createSenderApp(backend, { chats });
      const payloads = Array.from({ length: 300 }, (_, i) => message(chats[i % 50]!, `m${i}`));
      await t.dispatch(payloads);
      const senders = [t.sender(), t.sender(), t.sender()];
      const api = t.api;
      await waitFor(() => api.sent.length >= 300, {
        timeoutMs: 90_000,
        message: `sent ${api.sent.length} of 300`,
      });
      await Promise.all(senders.map((s) => s.stop()));
      // Each sender warmed up once (getMe) before its first send took a slot.
      expect(api.calls.filter((c) => c.method === 'getMe')).toHaveLength(3);
      expect(api.calls[0]!.method).toBe('getMe');
      const texts = api.sent.map((s) => s.params.text as string);
      expect(new Set(texts).size).toBe(300);
      expect(texts).toHaveLength(300);
      const floods = api.calls.filter((c) => c.status === 429);
      expect(
        floods.map((c) => ({
          chat: c.chatId,
          at: c.at,
          before: api.sent
            .filter((s) => s.at > c.at - 1000 && s.at <= c.at)
            .map((s) => `${s.chatId}@${s.at}`),
        })),
      ).toEqual([]);
      // No chat over 1 a second (the fake's window, CHAT_ARRIVAL_SLACK_MS shorter, said so too).
      const byChat = new Map<number, number[]>();
      for (const s of api.sent) byChat.set(s.chatId, [...(byChat.get(s.chatId) ?? []), s.at]);
      for (const times of byChat.values()) {
        expect(times).toHaveLength(6);
        for (let i = 1; i < times.length; i++)
          expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000 - CHAT_ARRIVAL_SLACK_MS);
      }
      // Every job done: nothing failed.
      expect(await t.rows('failed_jobs')).toHaveLength(0);
      const counted = await t.rows('telegram_chats');
      expect(counted.reduce((n, r) => n + Number(r.sent), 0)).toBe(300);
    }, 120_000);

    it('429: waits retry_after on the chat, spends no attempt, then sends', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      t.api.failNext(2, 429, { method: 'sendMessage', retryAfter: 1 });
      await t.dispatch([message(42, 'after flood')]);
      // One try only: a 429 that spent it would fail the job.
      const sender = t.sender({ QUEUE_TELEGRAM_TRIES: '1' });
      const api = t.api;
      await waitFor(() => api.sent.length === 1, { timeoutMs: 20_000 });
      const calls = api.calls.filter((c) => c.method === 'sendMessage');
      expect(calls.map((c) => c.status)).toEqual([429, 429, 200]);
      // Each retry waited at least retry_after (1 s) after the 429.
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
      expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(1000);
      await sender.stop();
      expect(await t.rows('failed_jobs')).toHaveLength(0);
    }, 60_000);

    it('403: fails at once, marks the chat blocked, skips and counts later sends to it', async () => {
      t = await createSenderApp(backend, { chats: [42, 43] });
      t.api.block(42, 'blocked');
      await t.dispatch([message(42, 'first')]);
      const sender = t.sender();
      await waitFor(async () => (await t!.rows('failed_jobs')).length === 1, { timeoutMs: 20_000 });
      const [chat] = await t.rows('telegram_chats', "chat_id = '42'");
      expect(chat).toMatchObject({ reason: '403 Forbidden: bot was blocked by the user' });
      expect(chat!.blocked_at).not.toBeNull();
      await t.dispatch([message(42, 'second'), message(43, 'other')]);
      await waitFor(() => t!.api.sent.length === 1, { timeoutMs: 20_000 });
      await waitFor(
        async () => Number((await t!.rows('telegram_chats', "chat_id = '42'"))[0]!.skipped) === 1,
      );
      await waitFor(() => /SKIPPED.*chat 42 is blocked/.test(sender.output), {
        message: 'the skip is reported',
      });
      // Telegram was asked once for chat 42: the second send never left.
      expect(t.api.calls.filter((c) => c.chatId === 42)).toHaveLength(1);
      expect(await t.rows('failed_jobs')).toHaveLength(1);
    }, 60_000);

    it('400 chat not found: permanent, one attempt', async () => {
      t = await createSenderApp(backend, { chats: [43] });
      await t.dispatch([message(4242, 'nobody')]);
      const sender = t.sender();
      const failed = await waitFor(async () => (await t!.rows('failed_jobs'))[0], {
        timeoutMs: 20_000,
      });
      expect(String(failed.exception)).toContain(
        'sendMessage to chat 4242: 400 Bad Request: chat not found',
      );
      expect(t.api.calls.filter((c) => c.chatId === 4242)).toHaveLength(1);
      await sender.stop();
    }, 60_000);

    it('400 with migrate_to_chat_id: resends at once to the supergroup and remembers it', async () => {
      t = await createSenderApp(backend, { chats: [-100] });
      t.api.migrate(-100, -1001234567890);
      await t.dispatch([message(-100, 'to the group')]);
      const sender = t.sender();
      const api = t.api;
      await waitFor(() => api.sent.length === 1, { timeoutMs: 20_000 });
      expect(api.sent[0]!.chatId).toBe(-1001234567890);
      const [row] = await t.rows('telegram_chats', "chat_id = '-100'");
      expect(row!.migrated_to).toBe('-1001234567890');
      // A later send goes straight to the new id.
      await t.dispatch([message(-100, 'again')]);
      await waitFor(() => api.sent.length === 2, { timeoutMs: 20_000 });
      expect(api.calls.filter((c) => c.chatId === -100)).toHaveLength(1);
      await sender.stop();
      expect(await t.rows('failed_jobs')).toHaveLength(0);
    }, 60_000);

    it('5xx and network errors: retried with backoff, then sent', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      t.api.failNext(1, 502, { method: 'sendMessage' });
      t.api.failNext(1, 'reset', { method: 'sendMessage' });
      await t.dispatch([message(42, 'eventually')]);
      const sender = t.sender();
      const api = t.api;
      await waitFor(() => api.sent.length === 1, { timeoutMs: 30_000 });
      expect(api.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([
        502, 0, 200,
      ]);
      await waitFor(() => /telegram\.send #\S+ DONE/.test(sender.output));
      expect(sender.output).toMatch(/RETRY.*attempt 1/);
      expect(sender.output).toMatch(/RETRY.*attempt 2/);
    }, 60_000);
    it('429s for several chats at once are a flood of the bot: its global key waits', async () => {
      const chats = Array.from({ length: 12 }, (_, i) => 3000 + i);
      t = await createSenderApp(backend, { chats });
      await t.dispatch(chats.map((chat) => message(chat, `f${chat}`)));
      t.api.failNext(3, 429, { method: 'sendMessage', retryAfter: 1 });
      const sender = t.sender({ QUEUE_TELEGRAM_TRIES: '1' });
      const api = t.api;
      await waitFor(() => api.sent.length === 12, { timeoutMs: 30_000 });
      await sender.stop();
      expect(sender.output).toMatch(
        /PUT BACK.*no attempt spent: sendMessage to chat \d+: 429 Too Many Requests: retry after 1; telegram\.chat key \d+:30\d\d waits 1s/,
      );
      expect(sender.output).toMatch(/PUT BACK.*telegram\.global key \d+ waits 1s/);
      expect(await t.rows('failed_jobs')).toHaveLength(0);
    }, 60_000);
  });
}
