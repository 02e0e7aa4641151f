import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, createLoggers } from '../src/logging/logger.js';
import { clearMaskedValues } from '../src/logging/redact.js';
import { maskSecretSettings } from '../src/logging/secrets.js';
import { tempDir, type TempDir } from './helpers/services.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const DB_URL = 'postgres://bob:s3cretpw@db.internal:5432/app';

let dir: TempDir;
let file: string;
beforeEach(() => {
  dir = tempDir('jobsmith-logger-');
  file = path.join(dir.path, 'storage', 'logs', 'app.log');
});
afterEach(() => dir.cleanup());

const lines = () =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('createLogger', () => {
  it('writes JSON lines to the file, creating its folder', () => {
    const log = createLogger({ level: 'info', file });
    log.info({ jobId: '42' }, 'job processed');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 30, msg: 'job processed', jobId: '42', pid: process.pid }),
    ]);
  });

  it('masks a bot token and a URL password in every line written to the file', () => {
    const log = createLogger({ level: 'info', file });
    log.error(
      { url: `https://api.telegram.org/bot${BOT_TOKEN}/sendMessage` },
      `connect ${DB_URL} failed`,
    );
    log.warn({ err: { message: `token ${BOT_TOKEN} rejected` }, password: 'hunter2' }, 'retrying');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('s3cretpw');
    expect(text).not.toContain(BOT_TOKEN.split(':')[1]);
    expect(text).not.toContain('hunter2');
    const [first, second] = lines();
    expect(first).toMatchObject({
      msg: 'connect postgres://bob:***@db.internal:5432/app failed',
      url: 'https://api.telegram.org/bot***/sendMessage',
    });
    expect(second).toMatchObject({ err: { message: 'token *** rejected' }, password: '***' });
  });

  it('masks them in the readable line for a terminal too', () => {
    const terminal = new PassThrough();
    let shown = '';
    terminal.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
    });
    const log = createLogger({ level: 'info', file, pretty: terminal });
    log.warn({ queue: 'telegram' }, `send via bot${BOT_TOKEN} to ${DB_URL}`);
    expect(shown).toMatch(
      /^\d\d:\d\d:\d\d WARN {2}send via bot\*\*\* to postgres:\/\/bob:\*\*\*@db\.internal:5432\/app queue=telegram\n$/,
    );
  });

  it('bounds each string of a line, saying how much was cut, and masks before it cuts', () => {
    const log = createLogger({ level: 'info', file });
    const huge = 'y'.repeat(5_000_000);
    log.error({ error: `${'z'.repeat(7_990)}${DB_URL} ${huge}` }, `failed: ${huge}`);
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeLessThan(20_000);
    expect(text).not.toContain('s3cretpw');
    expect(text).not.toContain('postgres://bob:s3');
    const [line] = lines();
    expect(line!.msg).toMatch(/^failed: y+…\[4,99\d,\d{3} characters cut\]$/);
    expect((line!.msg as string).length).toBeLessThanOrEqual(8_000);
    // The URL straddled the cut: masked first, so not even its start is left.
    expect(line!.error).toMatch(/^z+…\[5,00\d,\d{3} characters cut\]$/);
  });

  it('refuses a log file it cannot write with the setting, the path and the fix', () => {
    const blocker = path.join(dir.path, 'not-a-folder');
    writeFileSync(blocker, '');
    const target = path.join(blocker, 'app.log');
    expect(() => createLogger({ level: 'info', file: target })).toThrow(
      `Cannot write the log file ${target} (LOG_FILE): a part of the path is a file, not a folder (EEXIST).`,
    );
  });

  it('masks the value of a secret setting in a log field, by value', () => {
    maskSecretSettings({ MAIL_PASSWORD: 'hunter2hunter2', APP_KEY: 'base64:Zm9vYmFyYmF6' });
    try {
      const log = createLogger({ level: 'info', file });
      log.error(
        { error: 'SMTP 535 for hunter2hunter2', key: 'base64:Zm9vYmFyYmF6' },
        'mail failed',
      );
      expect(readFileSync(file, 'utf8')).not.toMatch(/hunter2|Zm9vYmFy/);
      expect(lines()[0]).toMatchObject({ error: 'SMTP 535 for ***', key: '***' });
    } finally {
      clearMaskedValues();
    }
  });

  it('drops lines below LOG_LEVEL', () => {
    const log = createLogger({ level: 'warn', file });
    log.info('hidden');
    log.warn('shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('writes fileLog lines to the same file, in order, and never to the terminal', () => {
    const terminal = new PassThrough();
    let shown = '';
    terminal.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
    });
    const { log, fileLog } = createLoggers({ level: 'info', file, pretty: terminal });
    log.info('from the handler');
    fileLog.info({ event: 'job:processed' }, 'job processed');
    log.warn(`token ${BOT_TOKEN}`);
    fileLog.error({ error: `bot${BOT_TOKEN}` }, 'job failed');
    expect(lines().map((l) => l.msg)).toEqual([
      'from the handler',
      'job processed',
      'token ***',
      'job failed',
    ]);
    expect(lines()[3]).toMatchObject({ error: 'bot***' });
    expect(shown).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}from the handler\n\d\d:\d\d:\d\d WARN {2}token \*\*\*\n$/,
    );
  });
});
