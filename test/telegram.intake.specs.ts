/**
 * `run longpoll` and the telegram.update job end to end, on one backend: real `run longpoll` and
 * `run queue:work` processes against the fake Bot API.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { describeBackend, type AppBackend } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import { createTelegramApp, type TelegramApp } from './telegram.fixture.js';

export function intakeSpecs(backend: AppBackend): void {
  describeBackend(backend, 'run longpoll and telegram.update', () => {
    let t: TelegramApp;
    const procs: CliProcess[] = [];
    const spawn = (args: string[]) => {
      const proc = t.app.spawn(args, { env: t.env, timeoutMs: 120_000 });
      procs.push(proc);
      return proc;
    };
    const longpoll = (...extra: string[]) =>
      spawn(['longpoll', '--timeout', '5s', '--lease', '2s', ...extra]);
    const worker = () => spawn(['queue:work', '--queue', 'telegram-updates', '--sleep', '100ms']);

    beforeEach(async () => {
      t = await createTelegramApp(backend);
      const migrated = await t.app.run(['migrate'], { env: t.env });
      expect(migrated.code, migrated.stderr).toBe(0);
    });
    afterEach(async () => {
      await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
      await t.cleanup();
    });

    it('stores each update, dispatches a job, and the handler runs it; failures show on the row and retry with queue:retry', async () => {
      const poller = longpoll();
      await poller.waitForOutput(/Polling bot default/, 30_000);
      const ok = t.api.pushMessage(42, 'hello')!;
      const boom = t.api.pushMessage(43, 'boom')!;
      await waitFor(async () => (await t.rows("status = 'queued'")).length === 2, {
        timeoutMs: 20_000,
      });
      const [first] = await t.rows(`update_id = ${ok.update_id}`);
      expect(first).toMatchObject({
        type: 'message',
        status: 'queued',
        bot: t.api.token.split(':')[0],
      });
      expect(Number(first!.chat_id)).toBe(42);
      expect(JSON.parse(String(first!.update))).toEqual(ok);

      worker();
      await waitFor(async () => (await t.rows("status in ('handled', 'failed')")).length === 2, {
        timeoutMs: 30_000,
      });
      expect(t.handled()).toEqual([`${ok.update_id} hello`]);
      const failed = (await t.rows(`update_id = ${boom.update_id}`))[0]!;
      expect(failed).toMatchObject({ status: 'failed', error: 'handler boom' });

      const listed = await t.app.run(['telegram:updates', '--status', 'failed', '--json'], {
        env: t.env,
      });
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toMatchObject([
        {
          updateId: boom.update_id,
          status: 'failed',
          error: 'handler boom',
          type: 'message',
          chatId: 43,
        },
      ]);

      // Fixed: the failed job is an ordinary failed job.
      writeFileSync(t.fixedFile, '');
      const retried = await t.app.run(['queue:retry', 'all'], { env: t.env });
      expect(retried.code, retried.stderr).toBe(0);
      await waitFor(
        async () => (await t.rows(`update_id = ${boom.update_id}`))[0]!.status === 'handled',
        { timeoutMs: 20_000 },
      );
      expect(t.handled()).toEqual([`${ok.update_id} hello`, `${boom.update_id} boom`]);
      const all = await t.app.run(['telegram:updates'], { env: t.env });
      expect(all.stdout).toMatch(new RegExp(`${boom.update_id}\\s+message\\s+43\\s+handled`));
      // By name: the bot's rows; a name that is no bot is refused, as longpoll refuses it.
      const named = await t.app.run(['telegram:updates', '--bot', 'default'], { env: t.env });
      expect(named.stdout).toBe(all.stdout);
      const unknown = await t.app.run(['telegram:updates', '--bot', 'nosuch'], { env: t.env });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('--bot nosuch: no such bot; the bots are default.');
    });

    it('loses no update and hands none to the handler twice when longpoll is killed -9 in the middle of batches (1,000 updates)', async () => {
      const pushed = new Set<number>();
      for (let i = 0; i < 1000; i++)
        pushed.add(t.api.pushMessage(42 + (i % 2), `m${i}`)!.update_id);
      worker();
      // Small batches, so that kills land between storing and dispatching, and mid-batch.
      for (let round = 0; round < 4; round++) {
        const poller = longpoll('--limit', '7');
        const before = (await t.rows()).length;
        await waitFor(
          async () => (await t.rows()).length >= Math.min(1000, before + 150 + round * 37),
          {
            timeoutMs: 30_000,
          },
        );
        await poller.stop('SIGKILL');
      }
      longpoll('--limit', '100');
      await waitFor(async () => (await t.rows("status = 'handled'")).length === 1000, {
        timeoutMs: 90_000,
        intervalMs: 250,
      });
      const rows = await t.rows();
      expect(rows.length).toBe(1000);
      expect(new Set(rows.map((r) => Number(r.update_id)))).toEqual(pushed);
      const handled = t.handled().map((line) => Number(line.split(' ')[0]));
      expect(handled.length).toBe(1000);
      expect(new Set(handled)).toEqual(pushed);
      expect(t.api.pendingUpdates().length).toBe(0);
    }, 150_000);

    it('lets one poller poll a bot; a second waits, saying so, and takes over when the first is killed', async () => {
      const first = longpoll();
      await first.waitForOutput(/Polling bot default/, 30_000);
      const second = longpoll();
      await second.waitForOutput(
        /Waiting: bot default \(id \d+\) is polled by another poller/,
        30_000,
      );
      const a = t.api.pushMessage(42, 'one')!;
      await waitFor(async () => (await t.rows()).length === 1, { timeoutMs: 20_000 });
      expect(second.stdout).not.toMatch(/Polling/);
      await first.stop('SIGKILL');
      await second.waitForOutput(/Polling bot default/, 30_000);
      const b = t.api.pushMessage(42, 'two')!;
      await waitFor(async () => (await t.rows()).length === 2, { timeoutMs: 20_000 });
      expect((await t.rows()).map((r) => Number(r.update_id))).toEqual([a.update_id, b.update_id]);
      // Never two polls at once: Telegram (the fake) never ended one with 409.
      expect(t.api.calls.filter((c) => c.status === 409)).toEqual([]);
    }, 90_000);

    it('stores updates after Telegram restarts its ids from a lower value', async () => {
      const poller = longpoll();
      await poller.waitForOutput(/Polling bot default/, 30_000);
      worker();
      const old = t.api.pushMessage(42, 'before')!;
      await waitFor(async () => t.handled().length === 1, { timeoutMs: 20_000 });
      await waitFor(() => t.api.pendingUpdates().length === 0 && t.api.holding());
      // A week without updates: ids go on from a lower value. A watermark ("skip ids at or
      // below the last") would drop these; the stored offset, higher, confirms nothing.
      t.api.restartUpdateIds(old.update_id - 10);
      const lower = [t.api.pushMessage(42, 'after1')!, t.api.pushMessage(42, 'after2')!];
      await waitFor(async () => t.handled().length === 3, { timeoutMs: 20_000 });
      expect(t.handled()).toEqual([
        `${old.update_id} before`,
        `${lower[0]!.update_id} after1`,
        `${lower[1]!.update_id} after2`,
      ]);
    }, 60_000);

    it('dispatches rows a crashed poller stored but did not dispatch, and a job for a handled row skips', async () => {
      const poller = longpoll();
      await poller.waitForOutput(/Polling bot default/, 30_000);
      const w = worker();
      const done = t.api.pushMessage(42, 'done')!;
      await waitFor(async () => t.handled().length === 1, { timeoutMs: 20_000 });
      await poller.stop('SIGKILL');
      // As a crash between the batch's transaction and its dispatch leaves it: stored, no job.
      const db = await t.app.db();
      const orphan = {
        update_id: done.update_id + 1,
        message: { message_id: 9, date: 1, chat: { id: 42, type: 'private' }, text: 'orphan' },
      };
      await db.knex('telegram_updates').insert({
        bot: t.api.token.split(':')[0],
        update_id: orphan.update_id,
        type: 'message',
        chat_id: 42,
        update: JSON.stringify(orphan),
        received_at: Date.now(),
        status: 'received',
      });
      const next = longpoll();
      await next.waitForOutput(/dispatched 1 stored updates first/, 30_000);
      await waitFor(async () => t.handled().length === 2, { timeoutMs: 20_000 });
      // A second dispatch for a handled update (a crash before the row was marked queued):
      const [row] = await t.rows(`update_id = ${done.update_id}`);
      const payload = JSON.stringify({
        id: Number(row!.id),
        bot: row!.bot,
        updateId: done.update_id,
      });
      const again = await t.app.run(['queue:dispatch', 'telegram.update', '--payload', payload], {
        env: t.env,
      });
      expect(again.code, again.stderr).toBe(0);
      await w.waitForOutput(/telegram\.update .*SKIPPED/, 20_000);
      expect(t.handled()).toEqual([`${done.update_id} done`, `${orphan.update_id} orphan`]);
    }, 60_000);
  });
}
