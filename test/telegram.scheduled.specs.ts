/**
 * Scheduled messages end to end on one backend: rows of telegram_scheduled_messages, real
 * `run scheduled:dispatch` processes (one-shot and --watch) and a sender against the fake Bot
 * API. Called by telegram.scheduled.<backend>.test.ts.
 */
import { afterEach, expect, it } from 'vitest';
import { describeBackend, type AppBackend } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import { createSenderApp, type SenderApp } from './telegram.sender.fixture.js';

async function schedule(t: SenderApp, rows: Array<{ chat: number; text: string; sendAt: number }>) {
  const db = await t.app.db();
  const now = Date.now();
  for (const r of rows) {
    await db.knex('telegram_scheduled_messages').insert({
      bot: null,
      chat_id: String(r.chat),
      method: 'sendMessage',
      params: JSON.stringify({ chat_id: r.chat, text: r.text }),
      send_at: r.sendAt,
      status: 'pending',
      created_at: now,
      updated_at: now,
    });
  }
}

/** The batches a `--json` run printed (one JSON object a line with --watch). */
const batches = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(
      (l) => JSON.parse(l) as { queued: number; messages: Array<{ id: number; jobId: string }> },
    );

export function scheduledSpecs(backend: AppBackend): void {
  describeBackend(backend, 'scheduled messages', () => {
    let t: SenderApp | undefined;
    afterEach(async () => {
      await t?.cleanup();
      t = undefined;
    });

    it('two scheduled:dispatch --watch at once queue each message once, never early', async () => {
      const chats = Array.from({ length: 60 }, (_, i) => 2000 + i);
      t = await createSenderApp(backend, { chats });
      await t.app.run(['migrate'], { env: t.env });
      const start = Date.now();
      // A third due already, the rest over the next three seconds.
      await schedule(
        t,
        chats.map((chat, i) => ({ chat, text: `s${i}`, sendAt: start - 1000 + i * 70 })),
      );
      const args = ['scheduled:dispatch', '--watch', '--json', '--sleep', '200ms', '--limit', '7'];
      const dispatchers = [t.app.spawn(args, { env: t.env }), t.app.spawn(args, { env: t.env })];
      const sender = t.sender();
      const api = t.api;
      await waitFor(() => api.sent.length >= 60, {
        timeoutMs: 60_000,
        message: `sent ${api.sent.length} of 60`,
      });
      const stopped = await Promise.all(dispatchers.map((d) => d.stop('SIGTERM')));
      expect(stopped.map((s) => s.code)).toEqual([0, 0]);
      await sender.stop();
      const queued = stopped.flatMap((s) => batches(s.stdout).flatMap((b) => b.messages));
      expect(queued).toHaveLength(60);
      expect(new Set(queued.map((q) => q.id)).size).toBe(60);
      expect(api.sent).toHaveLength(60);
      const rows = await t.rows('telegram_scheduled_messages');
      const byText = new Map(rows.map((r) => [JSON.parse(String(r.params)).text, r]));
      for (const sent of api.sent) {
        const row = byText.get(sent.params.text)!;
        expect(row.status).toBe('sent');
        expect(row.job_id).not.toBeNull();
        // Never early.
        expect(sent.at).toBeGreaterThanOrEqual(Number(row.send_at));
      }
    }, 90_000);

    it('one-shot dispatch: due rows only, oldest first, up to --limit', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      await t.app.run(['migrate'], { env: t.env });
      const now = Date.now();
      await schedule(t, [
        { chat: 42, text: 'third', sendAt: now - 1000 },
        { chat: 42, text: 'first', sendAt: now - 3000 },
        { chat: 42, text: 'second', sendAt: now - 2000 },
        { chat: 42, text: 'later', sendAt: now + 3_600_000 },
      ]);
      const first = await t.app.run(['scheduled:dispatch', '--limit=2', '--json'], { env: t.env });
      expect(first.code).toBe(0);
      const texts = async (ids: number[]) =>
        (await t!.rows('telegram_scheduled_messages'))
          .filter((r) => ids.includes(Number(r.id)))
          .sort((a, b) => Number(a.send_at) - Number(b.send_at))
          .map((r) => JSON.parse(String(r.params)).text);
      const batch = JSON.parse(first.stdout) as ReturnType<typeof batches>[number];
      expect(await texts(batch.messages.map((m) => m.id))).toEqual(['first', 'second']);
      const second = await t.app.run(['scheduled:dispatch'], { env: t.env });
      expect(second.stdout.trim()).toBe('Queued 1 scheduled message.');
      const third = await t.app.run(['scheduled:dispatch'], { env: t.env });
      expect(third.stdout.trim()).toBe('Queued 0 scheduled messages.');
      const pending = await t.rows('telegram_scheduled_messages', "status = 'pending'");
      expect(pending.map((r) => JSON.parse(String(r.params)).text)).toEqual(['later']);
    }, 60_000);

    it('a row a crash left claimed is dispatched again, deduplicated, and sent once', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      await t.app.run(['migrate'], { env: t.env });
      await schedule(t, [{ chat: 42, text: 'once', sendAt: Date.now() - 1000 }]);
      const db = await t.app.db();
      const table = () => db.knex('telegram_scheduled_messages');
      // Crash after the claim, before the push: queued, no job id, claimed long ago.
      await table().update({ status: 'queued', claimed_at: Date.now() - 120_000 });
      const run = async () => {
        const r = await t!.app.run(['scheduled:dispatch', '--json'], { env: t!.env });
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as ReturnType<typeof batches>[number]).messages;
      };
      const [queued] = await run();
      expect(queued).toBeDefined();
      // Crash after the push, before the job id was recorded: the same job comes back.
      await table().update({ job_id: null, claimed_at: Date.now() - 120_000 });
      const [again] = await run();
      expect(again!.jobId).toBe(queued!.jobId);
      // A fresh claim (not stale) is left alone.
      await table().update({ job_id: null, claimed_at: Date.now() });
      expect(await run()).toEqual([]);
      const sender = t.sender();
      await waitFor(() => t!.api.sent.length === 1, { timeoutMs: 20_000 });
      await waitFor(async () => (await table().first()).status === 'sent');
      await sender.stop();
      expect(t.api.sent).toHaveLength(1);
    }, 60_000);
    it('the sender writes failed back, and skips a row already sent', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      await t.app.run(['migrate'], { env: t.env });
      await schedule(t, [
        { chat: 4242, text: 'nobody', sendAt: Date.now() - 1000 },
        { chat: 42, text: 'fine', sendAt: Date.now() - 1000 },
      ]);
      expect((await t.app.run(['scheduled:dispatch'], { env: t.env })).code).toBe(0);
      const sender = t.sender();
      const status = async (text: string) =>
        (await t!.rows('telegram_scheduled_messages')).find(
          (r) => JSON.parse(String(r.params)).text === text,
        )!;
      await waitFor(async () => (await status('nobody')).status === 'failed', {
        timeoutMs: 20_000,
      });
      expect((await status('nobody')).error).toContain('400 Bad Request: chat not found');
      await waitFor(async () => (await status('fine')).status === 'sent', { timeoutMs: 20_000 });
      // A stray job for the sent row (a dispatch repeated after its unique key expired) skips.
      const row = await status('fine');
      await t.dispatch(
        [{ params: { chat_id: 42, text: 'fine' }, scheduled: Number(row.id) }],
        'telegram.scheduled',
      );
      await waitFor(() => /SKIPPED.*was already sent/.test(sender.output), { timeoutMs: 20_000 });
      await sender.stop();
      expect(t.api.sent.filter((s) => s.params.text === 'fine')).toHaveLength(1);
    }, 60_000);

    it('telegram:scheduled lists, telegram:unschedule cancels what is not sent and keeps the rest', async () => {
      t = await createSenderApp(backend, { chats: [42] });
      await t.app.run(['migrate'], { env: t.env });
      const later = Date.now() + 3_600_000;
      await schedule(t, [
        { chat: 42, text: 'soon', sendAt: Date.now() - 1000 },
        { chat: 42, text: 'later', sendAt: later },
      ]);
      const db = await t.app.db();
      const idOf = async (text: string) =>
        Number(
          (await t!.rows('telegram_scheduled_messages')).find(
            (r) => JSON.parse(String(r.params)).text === text,
          )!.id,
        );
      const [soon, latest] = [await idOf('soon'), await idOf('later')];
      await db.knex('telegram_scheduled_messages').where({ id: soon }).update({ status: 'sent' });

      const listed = await t.app.run(['telegram:scheduled', '--status', 'pending', '--json'], {
        env: t.env,
      });
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({
          id: latest,
          chatId: '42',
          status: 'pending',
          sendAt: new Date(later).toISOString(),
        }),
      ]);

      const cancel = await t.app.run(
        ['telegram:unschedule', String(latest), String(soon), '999999'],
        {
          env: t.env,
        },
      );
      expect(cancel.code, cancel.stderr).toBe(1);
      expect(cancel.stdout).toContain(`Cancelled  scheduled message ${latest}`);
      expect(cancel.stdout).toContain(`Kept  scheduled message ${soon}: it is already sent;`);
      const again = await t.app.run(['telegram:unschedule', String(latest), '--json'], {
        env: t.env,
      });
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout)).toEqual([{ id: latest, outcome: 'already-cancelled' }]);
      expect(cancel.stdout).toContain('No scheduled message 999999');
      const rows = await t.rows('telegram_scheduled_messages');
      expect(rows.map((r) => [Number(r.id), r.status]).sort()).toEqual(
        [
          [soon, 'sent'],
          [latest, 'cancelled'],
        ].sort(),
      );
    }, 60_000);
  });
}
