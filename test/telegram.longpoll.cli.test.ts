/**
 * `run longpoll` as an operator meets it (SQLite; none of this depends on the queue backend):
 * token errors, 409 conflicts, SIGTERM during a held poll, outages, and the batch store itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connection.js';
import { parseEnv } from '../src/config/env.js';
import { ensureSchema } from '../src/db/migrate.js';
import { acquirePoller } from '../src/telegram/poller-lease.js';
import { storeBatch, type RawUpdate } from '../src/telegram/updates-store.js';
import type { CliProcess } from './helpers/cli.js';
import { createTestDatabase, describePg, tempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';
import { createTelegramApp, type TelegramApp } from './telegram.fixture.js';

describe('run longpoll (operator cases)', () => {
  let t: TelegramApp;
  const procs: CliProcess[] = [];
  const spawn = (args: string[], env: Record<string, string> = {}) => {
    const proc = t.app.spawn(['longpoll', '--lease', '2s', ...args], {
      env: { ...t.env, ...env },
      timeoutMs: 60_000,
    });
    procs.push(proc);
    return proc;
  };

  beforeEach(async () => {
    t = await createTelegramApp('sqlite');
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
    await t.cleanup();
  });

  it('names TELEGRAM_BOT_TOKEN when it is missing or malformed, before anything runs', async () => {
    const missing = await t.app.run(['longpoll'], {
      env: { ...t.env, TELEGRAM_BOT_TOKEN: undefined },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'Error: TELEGRAM_BOT_TOKEN is not set, and the config names no telegram.bots.',
    );
    const bad = await t.app.run(['longpoll'], {
      env: { ...t.env, TELEGRAM_BOT_TOKEN: '12345:short' },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('TELEGRAM_BOT_TOKEN=');
    expect(bad.stderr).toContain('is not valid; expected a bot token from @BotFather');
    expect(bad.stderr).not.toContain('12345:short');
    expect(t.api.calls).toEqual([]);
  });

  it('refuses an --allowed-updates name that is not an update type (exit 2), asking nothing', async () => {
    const result = await t.app.run(['longpoll', '--allowed-updates', 'message,callback_quer'], {
      env: t.env,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--allowed-updates: "callback_quer" is not an update type; Telegram would send nothing of it. The types: message, edited_message,',
    );
    expect(t.api.calls).toEqual([]);
  });

  it('says Telegram refused the token, naming where it came from (401)', async () => {
    const unknown = `${t.api.token.split(':')[0]}1:${'A'.repeat(35)}`;
    const result = await t.app.run(['longpoll'], {
      env: { ...t.env, TELEGRAM_BOT_TOKEN: unknown },
    });
    expect(result.code).toBe(1);
    // The reason and the fix are whole: the masking once took "Unauthorized" and "copy" for
    // secrets, after the setting's name and a colon.
    expect(result.stderr).toContain(
      'Telegram refused the token of bot default from TELEGRAM_BOT_TOKEN: Unauthorized.',
    );
    expect(result.stderr).toContain('Check TELEGRAM_BOT_TOKEN: copy the token @BotFather gave you');
    expect(result.stderr + result.stdout).not.toContain(unknown);
  });

  it('explains a 409 from a webhook, and --drop-webhook deletes it and polls', async () => {
    t.api.setWebhook('https://example.org/hook');
    const refused = await t.app.run(['longpoll', '--timeout', '1s'], { env: t.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a webhook is set, and a bot with a webhook cannot be polled');
    expect(refused.stderr).toContain('run longpoll --drop-webhook');
    const dropping = spawn(['--drop-webhook', '--timeout', '5s']);
    await dropping.waitForOutput(/Deleted the webhook of bot default/, 30_000);
    await dropping.waitForOutput(/Polling bot default/);
    t.api.pushMessage(42, 'hi');
    await waitFor(async () => (await t.rows()).length === 1, { timeoutMs: 20_000 });
  });

  it('explains a 409 from a poller that holds no lease here', async () => {
    const poller = spawn(['--timeout', '30s']);
    await poller.waitForOutput(/Polling bot default/, 30_000);
    await waitFor(() => t.api.holding());
    // Another program polls the same bot (bot.start() elsewhere): Telegram ends our poll.
    const stranger = fetch(`${t.api.apiRoot}/bot${t.api.token}/getUpdates?timeout=1`);
    const result = await poller.exited;
    await stranger;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'because another poller is polling the same bot (409: Conflict: terminated by other getUpdates request',
    );
    expect(result.stderr).toContain('One token, one poller.');
  });

  it('stops at once and exits 0 on SIGTERM during a held poll', async () => {
    const poller = spawn(['--timeout', '60s']);
    await poller.waitForOutput(/Polling bot default/, 30_000);
    await waitFor(() => t.api.holding());
    poller.child.kill('SIGTERM');
    // Well before the 60 s hold would end on its own.
    const result = await Promise.race([
      poller.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000)),
    ]);
    expect(result).not.toBe('hung');
    expect(result).toMatchObject({ code: 0 });
    expect((result as { stdout: string }).stdout).toContain('SIGTERM: stopping.\nStopped.');
    // The lease is free: the next poller starts without waiting.
    const next = spawn(['--timeout', '5s']);
    await next.waitForOutput(/Polling bot default/, 30_000);
    expect(next.stdout).not.toContain('Waiting');
  });

  it('backs off through an outage, says so once without the token, and says when Telegram answers again', async () => {
    const poller = spawn(['--timeout', '1s']);
    await poller.waitForOutput(/Polling bot default/, 30_000);
    t.api.failNext(2, 'reset', { method: 'getUpdates' });
    t.api.failNext(1, 502, { method: 'getUpdates' });
    await waitFor(() => t.api.holding() === false);
    const update = t.api.pushMessage(42, 'after the outage')!;
    await poller
      .waitForOutput(
        /Telegram answers again for bot default \(id \d+\) after [\d.]+s and 3 failed calls/,
        30_000,
      )
      .catch((e) => {
        throw new Error(`${e.message}\n${poller.output}`);
      });
    await waitFor(async () => (await t.rows()).length === 1, { timeoutMs: 20_000 });
    expect(Number((await t.rows())[0]!.update_id)).toBe(update.update_id);
    expect(poller.stdout.match(/Cannot reach Telegram/g)).toHaveLength(1);
    const log = readFileSync(path.join(t.app.cwd, 'storage/logs/app.log'), 'utf8');
    expect(log).toContain('Telegram unreachable');
    for (const text of [poller.output, log]) expect(text).not.toContain(t.api.token);
  }, 60_000);

  it('never prints the token when Telegram cannot be reached at all', async () => {
    const poller = spawn(['--timeout', '1s'], { TELEGRAM_API_ROOT: 'http://127.0.0.1:9' });
    await poller.waitForOutput(
      /Cannot reach Telegram for bot default \(id \d+\): .*Retrying with backoff/,
      30_000,
    );
    expect(poller.output).not.toContain(t.api.token.split(':')[1]);
  });
});

/** The batch transaction on real storage: a batch Telegram sends again, and restarted ids. */
function storeSpecs(kind: 'sqlite' | 'pgsql') {
  return async () => {
    const dir = tempDir();
    const pg = kind === 'pgsql' ? await createTestDatabase() : undefined;
    const env = parseEnv(
      pg
        ? { DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url }
        : { DB_DATABASE: path.join(dir.path, 'db.sqlite') },
    );
    const db = await openDatabase(env, dir.path);
    try {
      await ensureSchema(db, true);
      expect(await acquirePoller(db, '7', 'test', 'tok', 60_000)).toBe(true);
      const msg = (id: number, text: string): RawUpdate => ({
        update_id: id,
        message: { message_id: id, date: 1, chat: { id: 5, type: 'private' }, text },
      });
      const batch = [msg(100, 'a'), msg(101, 'b')];
      const ref = (updateId: number) => ({ id: expect.any(Number), updateId });
      expect(await storeBatch(db, '7', 'tok', batch, 102, 60_000)).toEqual({
        inserted: 2,
        rows: [ref(100), ref(101)],
        duplicates: 0,
        replaced: [],
        clashes: [],
      });
      // Re-delivered (the offset never reached Telegram): nothing new.
      expect(await storeBatch(db, '7', 'tok', batch, 102, 60_000)).toEqual({
        inserted: 0,
        rows: [],
        duplicates: 2,
        replaced: [],
        clashes: [],
      });
      // Partly new, and the same update twice in one batch: only 99 is inserted, once.
      expect(
        await storeBatch(db, '7', 'tok', [msg(99, 'z'), msg(100, 'a'), msg(99, 'z')], 102, 60_000),
      ).toEqual({ inserted: 1, rows: [ref(99)], duplicates: 1, replaced: [], clashes: [] });
      // Ids restarted onto 101: a live row keeps its id; a finished one is replaced.
      expect(await storeBatch(db, '7', 'tok', [msg(101, 'new')], 102, 60_000)).toMatchObject({
        inserted: 0,
        clashes: [101],
      });
      await db.knex('telegram_updates').where({ update_id: 101 }).update({ status: 'handled' });
      expect(await storeBatch(db, '7', 'tok', [msg(101, 'new')], 102, 60_000)).toMatchObject({
        inserted: 1,
        rows: [ref(101)],
        replaced: [101],
      });
      const row = await db.knex('telegram_updates').where({ update_id: 101 }).first();
      expect(row).toMatchObject({ status: 'received' });
      expect(JSON.parse(row.update).message.text).toBe('new');
      // Another poller took the lease: the batch is not stored, the offset not moved.
      await db.knex('telegram_state').update({ owner_token: 'other' });
      await expect(storeBatch(db, '7', 'tok', [msg(200, 'x')], 201, 60_000)).rejects.toThrow(
        'The poller lease of bot 7 was taken by another poller.',
      );
      expect(await db.knex('telegram_updates').where({ update_id: 200 }).first()).toBeUndefined();
      expect(Number((await db.knex('telegram_state').first()).next_offset)).toBe(102);
    } finally {
      await db.knex.destroy();
      await pg?.drop();
      dir.cleanup();
    }
  };
}

describe('storeBatch (SQLite)', () => {
  it(
    'stores a batch once, replaces finished rows after an id restart, and only while holding the lease',
    storeSpecs('sqlite'),
  );
});
describePg('storeBatch (PostgreSQL)', () => {
  it(
    'stores a batch once, replaces finished rows after an id restart, and only while holding the lease',
    storeSpecs('pgsql'),
  );
});
