/**
 * `run telegram:send` and `run telegram:schedule` as a user types them (SQLite): through the
 * queue, --now against the fake Bot API, and every bad input with its message and exit code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { createSenderApp, type SenderApp } from './telegram.sender.fixture.js';

describe('run telegram:send and telegram:schedule', () => {
  let t: SenderApp;
  beforeAll(async () => {
    t = await createSenderApp('sqlite', { chats: [42, 43] });
    t.api.block(43, 'deactivated');
  });
  afterAll(() => t.cleanup());
  const run = (args: string[]) => t.app.run(args, { env: t.env });

  it('queues a telegram.send job on the telegram queue', async () => {
    const result = await run(['telegram:send', '--chat', '42', '--text', 'hello', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as { id: string; queue: string };
    expect(job.queue).toBe('telegram');
    const [row] = await t.rows('jobs', `id = ${Number(job.id)}`);
    expect(row).toMatchObject({ name: 'telegram.send', queue: 'telegram' });
    expect(JSON.parse(String(row!.payload))).toEqual({
      bot: 'default',
      method: 'sendMessage',
      params: { chat_id: 42, text: 'hello' },
    });
    expect(t.api.sent).toHaveLength(0);
  });

  it('--now sends at once and prints the message', async () => {
    const result = await run(['telegram:send', '--chat', '42', '--text', 'now', '--now']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Sent message \d+ to chat 42 as bot default\.\n$/);
    expect(t.api.sent.at(-1)).toMatchObject({ chatId: 42, params: { text: 'now' } });
  });

  it('--now to a chat Telegram refuses exits 1 with its answer', async () => {
    const result = await run(['telegram:send', '--chat', '43', '--text', 'x', '--now']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Error: Telegram did not take the message to chat 43: 403 Forbidden: user is deactivated.',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--now with a token Telegram refuses names the token, not the chat (exit 1)', async () => {
    const unknown = `${t.env.TELEGRAM_BOT_TOKEN!.split(':')[0]}1:${'A'.repeat(35)}`;
    const result = await t.app.run(['telegram:send', '--chat', '42', '--text', 'x', '--now'], {
      env: { ...t.env, TELEGRAM_BOT_TOKEN: unknown },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Error: Telegram refused the token of bot default from TELEGRAM_BOT_TOKEN: Unauthorized.',
    );
    expect(result.stderr).not.toContain('did not take the message');
  });

  it.each([
    [['--text', 'x'], '--chat is required'],
    [['--chat', '42'], '--text is required and may not be empty'],
    [['--chat', '42', '--text', '  '], '--text is required and may not be empty'],
    [['--chat', 'abc', '--text', 'x'], '--chat must be a chat id'],
    [['--chat', '0', '--text', 'x'], '--chat must be a chat id'],
    [
      ['--chat', '42', '--text', 'x'.repeat(4097)],
      'is 4097 characters; Telegram takes at most 4096',
    ],
    [
      ['--chat', '42', '--text', 'x', '--bot', 'nope'],
      '--bot nope: no such bot; the bots are default.',
    ],
  ])('telegram:send %# exits 2: %1$s', async (args, text) => {
    const result = await run(['telegram:send', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(text);
  });

  it('telegram:schedule stores a pending message for --in or --at', async () => {
    const before = Date.now();
    const inResult = await run([
      'telegram:schedule',
      '--chat',
      '42',
      '--text',
      'soon',
      '--in',
      '5m',
      '--json',
    ]);
    expect(inResult.code).toBe(0);
    const stored = JSON.parse(inResult.stdout) as { id: number; sendAt: string; status: string };
    expect(stored.status).toBe('pending');
    const sendAt = Date.parse(stored.sendAt);
    expect(sendAt).toBeGreaterThanOrEqual(before + 300_000);
    // A month ahead, at 09:00 UTC.
    const at = new Date(
      Math.floor(before / 86_400_000) * 86_400_000 + 30 * 86_400_000 + 9 * 3_600_000,
    );
    const atResult = await run([
      'telegram:schedule',
      '--chat',
      '-1001',
      '--text',
      'standup',
      '--at',
      at.toISOString().replace('.000Z', 'Z'),
    ]);
    expect(atResult.code).toBe(0);
    expect(atResult.stdout).toMatch(
      new RegExp(
        `^Scheduled message \\d+ for chat -1001 at ${at.toISOString()}; run scheduled:dispatch queues it when due\\.\n$`,
      ),
    );
    const rows = await t.rows('telegram_scheduled_messages', "status = 'pending'");
    expect(rows.map((r) => [r.chat_id, Number(r.send_at)])).toEqual(
      expect.arrayContaining([
        ['42', sendAt],
        ['-1001', at.getTime()],
      ]),
    );
  });

  it.each([
    [
      ['--chat', '42', '--text', 'x'],
      'Give exactly one of --at TIME (ISO 8601) or --in DELAY (5m).',
    ],
    [
      ['--chat', '42', '--text', 'x', '--in', '5m', '--at', '2030-01-01T00:00:00Z'],
      'Give exactly one of',
    ],
    [
      ['--chat', '42', '--text', 'x', '--at', 'tomorrow'],
      '--at: expected an ISO 8601 time with its offset',
    ],
    [
      ['--chat', '42', '--text', 'x', '--at', '2030-01-01T09:00'],
      '--at: expected an ISO 8601 time with its offset',
    ],
    [['--chat', '42', '--text', 'x', '--at', '2999-01-01T00:00:00Z'], 'is more than a year ahead'],
    [['--chat', '42', '--text', 'x', '--in', 'soon'], '--in: expected a delay from now'],
    [['--text', 'x', '--in', '5m'], '--chat is required'],
  ])('telegram:schedule %# exits 2: %1$s', async (args, text) => {
    const result = await run(['telegram:schedule', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(text);
  });

  it('scheduled:dispatch refuses a bad --limit', async () => {
    const result = await run(['scheduled:dispatch', '--limit=0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--limit');
  });
});

describe('without a telegram section in the config', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp('sqlite', `export default {};\n`);
  });
  afterAll(() => app.cleanup());

  it('telegram:send, telegram:schedule and scheduled:dispatch say what to add', async () => {
    const env = { TELEGRAM_BOT_TOKEN: '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    for (const args of [
      ['telegram:send', '--chat', '42', '--text', 'x'],
      ['telegram:schedule', '--chat', '42', '--text', 'x', '--in', '1m'],
      ['scheduled:dispatch'],
    ]) {
      const result = await app.run(args, { env });
      expect(result.code, args[0]).toBe(1);
      expect(result.stderr).toContain('has no telegram section');
      expect(result.stderr).toContain('telegram: {}');
    }
  });
});
