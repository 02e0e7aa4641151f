import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskUrl, redact } from '../src/logging/redact.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

// The shape of a real bot token: bot id, colon, 35 url-safe characters.
const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';

describe('redact', () => {
  it('masks a Telegram bot token', () => {
    expect(BOT_TOKEN.split(':')[1]).toHaveLength(35);
    expect(redact(`token is ${BOT_TOKEN}.`)).toBe('token is ***.');
  });

  it('masks a bot token inside a Bot API URL', () => {
    expect(redact(`POST https://api.telegram.org/bot${BOT_TOKEN}/sendMessage failed`)).toBe(
      'POST https://api.telegram.org/bot***/sendMessage failed',
    );
  });

  it('masks the password of a postgres URL, keeping user, host and database', () => {
    expect(redact('connect postgres://bob:s3cretpw@db.internal:5432/app failed')).toBe(
      'connect postgres://bob:***@db.internal:5432/app failed',
    );
    expect(redact('redis://:r3dispw@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
  });

  it('masks an sk- API key', () => {
    expect(redact('OPENAI_API_KEY sk-proj-4fGh7Jk9LmNp2QrS5tUv end')).toBe(
      'OPENAI_API_KEY sk-*** end',
    );
  });

  it('masks a Bearer token, in a header line and after Authorization:', () => {
    expect(redact('sent Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln==')).toBe('sent Bearer ***');
    expect(redact('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln')).toBe(
      'Authorization: Bearer ***',
    );
  });

  it('masks password=, token= and api_key= values, in text, query strings and JSON', () => {
    expect(redact('login password=hunter2 user=bob')).toBe('login password=*** user=bob');
    expect(redact('https://h/cb?user=bob&password=hunter2&x=1')).toBe(
      'https://h/cb?user=bob&password=***&x=1',
    );
    expect(redact('{"token":"abc123","api_key":"xyz","n":1}')).toBe(
      '{"token":"***","api_key":"***","n":1}',
    );
  });

  it('leaves ordinary text alone', () => {
    const text = 'job digest.send took 12:30 at https://example.com/a?b=1 for bob@example.com';
    expect(redact(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = redact(`postgres://bob:s3cretpw@db/app ${BOT_TOKEN} password=x`);
    expect(redact(once)).toBe(once);
  });
});

describe('maskUrl', () => {
  it('masks only the password', () => {
    expect(maskUrl('postgres://bob:s3cretpw@db:5432/app?sslmode=require')).toBe(
      'postgres://bob:***@db:5432/app?sslmode=require',
    );
    expect(maskUrl('postgres://bob@db/app')).toBe('postgres://bob@db/app');
  });
});

describe('errors the CLI prints', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir('jobsmith-redact-');
  });
  afterEach(() => dir.cleanup());

  it('never show the password of an unreachable DATABASE_URL, with or without --verbose', async () => {
    const env = appEnv({
      DB_CONNECTION: 'pgsql',
      DATABASE_URL: 'postgres://bob:s3cretpw@127.0.0.1:1/app',
    });
    for (const args of [['migrate'], ['migrate', '--verbose']]) {
      const result = await runCli(args, { cwd: dir.path, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('postgres://bob:***@127.0.0.1:1/app');
      expect(result.stderr).not.toContain('s3cretpw');
    }
  });

  it('mask a password quoted back in a configuration error', async () => {
    const result = await runCli(['about'], {
      cwd: dir.path,
      env: appEnv({ DATABASE_URL: 'mysql://bob:s3cretpw@db/app' }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: DATABASE_URL="mysql://bob:***@db/app" is not valid; ' +
        'expected a URL starting with postgres:// or postgresql://.\n' +
        'Fix the variable in your environment or in .env.\n',
    );
  });

  it('mask a bot token inside an error thrown by the config file, stack included', async () => {
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      `throw new Error('GET https://api.telegram.org/bot${BOT_TOKEN}/getMe: 401');\n`,
    );
    for (const args of [['about'], ['about', '--verbose']]) {
      const result = await runCli(args, { cwd: dir.path, env: appEnv() });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('https://api.telegram.org/bot***/getMe: 401');
      expect(result.stderr).not.toContain(BOT_TOKEN.split(':')[1]);
    }
  });
});
