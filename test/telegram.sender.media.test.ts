/**
 * telegram.send with media: an album (sendMediaGroup) of local files and a URL, uploaded as
 * multipart by a real `run queue:work --queue telegram` to the fake Bot API; a missing local
 * file, one outside the upload folders or a hidden one failing the job at once with the path; a
 * malformed album refused at dispatch. SQLite.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeBackend } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import { createSenderApp, type SenderApp } from './telegram.sender.fixture.js';

describeBackend('sqlite', 'telegram.send with media', () => {
  let t: SenderApp | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('sends an album of uploaded files and a URL as one send, the caption on the first', async () => {
    t = await createSenderApp('sqlite', { chats: [42] });
    mkdirSync(path.join(t.app.cwd, 'images'), { recursive: true });
    writeFileSync(path.join(t.app.cwd, 'images', 'one.png'), Buffer.alloc(300, 1));
    writeFileSync(path.join(t.app.cwd, 'images', 'two.png'), Buffer.alloc(500, 2));
    await t.dispatch([
      {
        method: 'sendMediaGroup',
        params: {
          chat_id: 42,
          media: [
            { type: 'photo', media: { path: 'images/one.png' }, caption: 'Launch day' },
            { type: 'photo', media: { path: 'images/two.png', filename: 'second.png' } },
            { type: 'photo', media: 'https://example.test/three.png' },
          ],
        },
      },
    ]);
    const sender = t.sender();
    const api = t.api;
    await waitFor(() => api.sent.length === 3, { timeoutMs: 20_000 });
    expect(api.sent.map((s) => s.method)).toEqual(Array(3).fill('sendMediaGroup'));
    expect(api.sent.map((s) => s.message.caption)).toEqual(['Launch day', undefined, undefined]);
    const ids = api.sent.map((s) => s.message.photo?.at(-1)?.file_id);
    expect(ids).toEqual([
      'upload-one.png-300',
      'upload-second.png-500',
      'https://example.test/three.png',
    ]);
    // One Bot API call, counted once in telegram_chats.
    expect(api.calls.filter((c) => c.method === 'sendMediaGroup')).toHaveLength(1);
    await waitFor(async () => Number((await t!.rows('telegram_chats'))[0]?.sent) === 1, {
      timeoutMs: 10_000,
    });
    await sender.stop();
    expect(await t.rows('failed_jobs')).toHaveLength(0);
  }, 60_000);

  it('fails at once, naming the path, when a local file is missing', async () => {
    t = await createSenderApp('sqlite', { chats: [42] });
    await t.dispatch([
      { method: 'sendPhoto', params: { chat_id: 42, photo: { path: 'images/gone.png' } } },
    ]);
    const sender = t.sender();
    const failed = await waitFor(async () => (await t!.rows('failed_jobs'))[0], {
      timeoutMs: 20_000,
    });
    expect(String(failed.exception)).toContain(
      'Cannot upload images/gone.png to Telegram: no such file.',
    );
    // Nothing reached Telegram, and one attempt was spent.
    expect(t.api.calls.filter((c) => c.method === 'sendPhoto')).toEqual([]);
    // job_attempts keeps the attempts that did not end their job: a retry would be one.
    expect(await t.rows('job_attempts')).toEqual([]);
    await sender.stop();
  }, 60_000);

  it('fails at once, uploading nothing, for a file outside the upload folders or a hidden one', async () => {
    t = await createSenderApp('sqlite', { chats: [42] });
    const outside = mkdtempSync(path.join(tmpdir(), 'jobsmith-outside-'));
    writeFileSync(path.join(outside, 'far.png'), Buffer.alloc(10));
    writeFileSync(path.join(t.app.cwd, '.env.local'), 'TELEGRAM_BOT_TOKEN=secret');
    try {
      await t.dispatch([
        { method: 'sendPhoto', params: { chat_id: 42, photo: { path: `${outside}/far.png` } } },
        { method: 'sendDocument', params: { chat_id: 42, document: { path: '.env.local' } } },
      ]);
      const sender = t.sender();
      const failed = await waitFor(
        async () => {
          const rows = await t!.rows('failed_jobs');
          return rows.length === 2 ? rows.map((r) => String(r.exception)) : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(failed!.join('\n')).toContain(
        `Cannot upload ${outside}/far.png to Telegram: it is outside the folders files are read from`,
      );
      expect(failed!.join('\n')).toContain(
        'Cannot upload .env.local to Telegram: it is a hidden file or in a hidden folder',
      );
      expect(t.api.calls.filter((c) => c.method !== 'getMe')).toEqual([]);
      await sender.stop();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses an album of one item at dispatch, naming the field', async () => {
    t = await createSenderApp('sqlite', { chats: [42] });
    const payload = {
      method: 'sendMediaGroup',
      params: { chat_id: 42, media: [{ type: 'photo', media: 'p1' }] },
    };
    const result = await t.app.run(['queue:dispatch', 'telegram.send'], {
      env: t.env,
      input: `${JSON.stringify(payload)}\n`,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('params.media');
    expect(result.stderr).toContain('a media group has 2 to 10 items');
  }, 60_000);
});
