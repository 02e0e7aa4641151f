/**
 * The sender's part of the config: Telegram's default limits declared for a config with a
 * `telegram` section and replaced by the app's own `rateLimits`, the checks of
 * `telegram.sendQueue` and `telegram.replies`, and sendTelegram / scheduleTelegram called from
 * application code (a plain Node script on the built package, in the app's folder).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { INTEGRATION_SECTIONS } from '../src/integrations.js';
import { REPO_ROOT } from './helpers/cli.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { createSenderApp, type SenderApp } from './telegram.sender.fixture.js';

describe('telegram limits and settings in the config', () => {
  let dir: TempDir | undefined;
  afterEach(() => dir?.cleanup());
  const load = async (body: string) => {
    dir = tempDir('jobsmith-tgconfig-');
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      `import { defineConfig } from 'jobsmith';\nexport default defineConfig(${body});\n`,
    );
    return loadConfig(dir.path, undefined, INTEGRATION_SECTIONS);
  };

  it('declares telegram.global, telegram.chat and telegram.group: the Telegram FAQ figures, windows 2% longer', async () => {
    const { rateLimits } = await load('{ telegram: {} }');
    expect([...rateLimits.values()]).toEqual([
      { name: 'telegram.global', limit: 30, perMs: 1020, burst: 0 },
      { name: 'telegram.chat', limit: 1, perMs: 1020, burst: 0 },
      { name: 'telegram.group', limit: 20, perMs: 61_200, burst: 0 },
    ]);
  });

  it("the app's rateLimits replace a default of the same name", async () => {
    const { rateLimits } = await load(
      "{ telegram: {}, rateLimits: { 'telegram.global': { limit: 25, per: '1s' }, api: { limit: 5, per: 1 } } }",
    );
    expect(rateLimits.get('telegram.global')).toMatchObject({ limit: 25, perMs: 1000 });
    expect(rateLimits.get('telegram.chat')).toMatchObject({ limit: 1, perMs: 1020 });
    expect(rateLimits.get('api')).toMatchObject({ limit: 5 });
  });

  it("a config may import from 'jobsmith/telegram'", async () => {
    dir = tempDir('jobsmith-tgconfig-');
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      "import { defineConfig } from 'jobsmith';\n" +
        "import { TELEGRAM_RATE_LIMITS, telegramSend } from 'jobsmith/telegram';\n" +
        "export default defineConfig({ telegram: {}, rateLimits: { [telegramSend.name]: TELEGRAM_RATE_LIMITS['telegram.chat']! } });\n",
    );
    const { rateLimits } = await loadConfig(dir.path, undefined, INTEGRATION_SECTIONS);
    expect(rateLimits.get('telegram.send')).toMatchObject({ limit: 1, perMs: 1020 });
  });

  it('declares nothing without a telegram section', async () => {
    const { rateLimits } = await load('{}');
    expect(rateLimits.size).toBe(0);
  });

  it.each([
    ["{ telegram: { replies: 'later' } }", `telegram.replies must be 'queue'`],
    ["{ telegram: { sendQueue: 'a b' } }", 'telegram.sendQueue'],
    [
      "{ telegram: {}, rateLimits: { 'telegram.chat': { limit: 0, per: '1s' } } }",
      'rateLimits["telegram.chat"].limit must be a whole number',
    ],
  ])('%s is refused', async (body, text) => {
    await expect(load(body)).rejects.toThrow(text);
  });
});

describe('sendTelegram and scheduleTelegram from application code', () => {
  let t: SenderApp | undefined;
  afterEach(() => t?.cleanup());

  it('queue a telegram.send job on the sendQueue and store a scheduled row', async () => {
    t = await createSenderApp('sqlite', {
      chats: [42],
      config:
        "import { defineConfig } from 'jobsmith';\nexport default defineConfig({ telegram: { sendQueue: 'outbox' } });\n",
    });
    await t.app.run(['migrate'], { env: t.env });
    const dist = (file: string) => JSON.stringify(path.join(REPO_ROOT, 'dist/src', file));
    writeFileSync(
      path.join(t.app.cwd, 'app.mjs'),
      `import { disconnect } from ${dist('index.js')};
import { sendTelegram, scheduleTelegram } from ${dist('telegram/index.js')};
const sent = await sendTelegram(42, 'from code', { params: { parse_mode: 'HTML' } });
const scheduled = await scheduleTelegram(42, 'later', { at: new Date(Date.now() + 60_000) });
let refused = '';
try { await sendTelegram(0, 'x'); } catch (e) { refused = e.name + ': ' + e.message; }
console.log(JSON.stringify({ sent, scheduled, refused }));
await disconnect();
`,
    );
    const result = spawnSync(process.execPath, ['app.mjs'], {
      cwd: t.app.cwd,
      env: { ...process.env, ...t.app.env, ...t.env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as {
      sent: { id: string };
      scheduled: { id: number; sendAt: number };
      refused: string;
    };
    const [job] = await t.rows('jobs', `id = ${Number(out.sent.id)}`);
    expect(job).toMatchObject({ name: 'telegram.send', queue: 'outbox' });
    expect(JSON.parse(String(job!.payload))).toEqual({
      params: { parse_mode: 'HTML', chat_id: 42, text: 'from code' },
    });
    const [row] = await t.rows('telegram_scheduled_messages', `id = ${out.scheduled.id}`);
    expect(row).toMatchObject({ status: 'pending', chat_id: '42', method: 'sendMessage' });
    expect(Number(row!.send_at)).toBe(out.scheduled.sendAt);
    expect(out.refused).toMatch(/^InvalidPayloadError: .*chat id is never 0/);
  }, 60_000);
});
