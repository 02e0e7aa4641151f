import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearMaskedValues, maskUrl, redact } from '../src/logging/redact.js';
import { isSecretSetting, maskSecretSettings, secretValues } from '../src/logging/secrets.js';
import { runCliInHost } from './helpers/cli-host.js';
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

  it('keeps the host of a URL whose user name names a secret (smtp://apikey:...@host)', () => {
    expect(redact('MAIL_URL smtp://apikey:s3cret@smtp.example.com:587')).toBe(
      'MAIL_URL smtp://apikey:***@smtp.example.com:587',
    );
    expect(redact('redis://token:abc123@cache:6379/0 and api_key=xyz')).toBe(
      'redis://token:***@cache:6379/0 and api_key=***',
    );
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

  it("keeps our prose after a setting's name and a colon; masks the setting written as a pair", () => {
    for (const text of [
      'Telegram refused the token of bot default from TELEGRAM_BOT_TOKEN: Unauthorized.',
      'Check TELEGRAM_BOT_TOKEN: copy the token @BotFather gave you.',
      'OpenAI refused the key in OPENAI_API_KEY: check it.',
    ])
      expect(redact(text)).toBe(text);
    expect(redact('TELEGRAM_BOT_TOKEN=abcdef')).toBe('TELEGRAM_BOT_TOKEN=***');
    expect(redact('MAIL_PASSWORD="hunter2"')).toBe('MAIL_PASSWORD="***"');
    expect(redact('TOKEN: abcdef and token: abcdef')).toBe('TOKEN: *** and token: ***');
    expect(redact('db_password: hunter2')).toBe('db_password: ***');
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

describe('redact: URL passwords with a raw @', () => {
  it('masks the whole password, up to the last @ before the host', () => {
    expect(redact('redis://:p@ssw0rd@cache.local:6379/0 refused')).toBe(
      'redis://:***@cache.local:6379/0 refused',
    );
    expect(redact('postgres://bob:a@b@c@db:5432/app')).toBe('postgres://bob:***@db:5432/app');
    expect(maskUrl('redis://:p@ssw0rd@cache.local:6379')).not.toContain('ssw0rd');
  });
});

describe('redact: secret settings, by value', () => {
  afterEach(() => clearMaskedValues());

  it('masks the value of every secret setting wherever it appears', () => {
    maskSecretSettings({
      MAIL_PASSWORD: 'hunter2hunter2',
      APP_KEY: 'base64:Zm9vYmFyYmF6',
      TELEGRAM_SESSION: '1BQANOTEuMTA4LjU2',
      TELEGRAM_API_HASH: 'a3406de8d171bb42',
      CUSTOM_SECRET_KEY_BASE: 'kb-0123456789',
      QUEUE_LEASE: '60s',
    });
    expect(
      redact(
        'SMTP auth as bob with hunter2hunter2 failed; key base64:Zm9vYmFyYmF6, session 1BQANOTEuMTA4LjU2, hash a3406de8d171bb42, kb-0123456789, lease 60s',
      ),
    ).toBe('SMTP auth as bob with *** failed; key ***, session ***, hash ***, ***, lease 60s');
  });

  it("masks a Laravel-form key's base64 part on its own too, in APP_KEY and APP_PREVIOUS_KEYS", () => {
    const current = 'base64:6Dh/+/4JCRuEOjHY8UQQ4+5t5ogICdMz41dLhQSpDPQ=';
    const previous = 'base64:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=';
    maskSecretSettings({
      APP_KEY: current,
      APP_PREVIOUS_KEYS: `${previous},plainkey32charactersxxxxxxxxxxxx`,
    });
    expect(
      redact(
        `bare=${current.slice(7)} old=${previous.slice(7)} plain=plainkey32charactersxxxxxxxxxxxx`,
      ),
    ).toBe('bare=*** old=*** plain=***');
  });

  it('masks the passwords inside URL settings, as written and decoded', () => {
    maskSecretSettings({
      REDIS_URL: 'redis://:p%40ss%2Fw0rd@cache:6379',
      DATABASE_URL: 'postgres://bob:s3cr3tpw@db/app',
    });
    expect(redact('AUTH p@ss/w0rd rejected; encoded p%40ss%2Fw0rd; s3cr3tpw')).toBe(
      'AUTH *** rejected; encoded ***; ***',
    );
  });

  it('masks values inside a URL even where they are URL-encoded', () => {
    maskSecretSettings({ SMTP_PASSWORD: 'a b&c=d' });
    expect(redact('smtp://bob@mail/?x=a%20b%26c%3Dd and a b&c=d')).toBe(
      'smtp://bob@mail/?x=*** and ***',
    );
  });

  it('masks a short secret (under 8 characters) only as a word of its own, not inside words', () => {
    maskSecretSettings({ MAIL_PASSWORD: 'pass' });
    expect(redact('The password reset message was not sent: login pass refused')).toBe(
      'The password reset message was not sent: login *** refused',
    );
    maskSecretSettings({ MAIL_PASSWORD: 'longpass1' });
    expect(redact('xlongpass1y')).toBe('x***y');
  });

  it('does not take a file path ending in passwd for a secret setting', () => {
    const text = 'Cannot attach /etc/passwd: it is outside the folders files are read from';
    expect(redact(text)).toBe(text);
    expect(redact('passwd: hunter2')).toBe('passwd: ***');
  });

  it('leaves values shorter than four characters to the patterns', () => {
    maskSecretSettings({ MAIL_PASSWORD: 'abc' });
    expect(redact('abc MAIL_PASSWORD=abc')).toBe('abc MAIL_PASSWORD=***');
  });

  it('tells secret settings from settings about a secret', () => {
    for (const name of [
      'MAIL_PASSWORD',
      'DB_PASSWD',
      'TELEGRAM_BOT_TOKEN',
      'DASHBOARD_TOKEN',
      'OPENAI_API_KEY',
      'APP_KEY',
      'TELEGRAM_SESSION',
      'TELEGRAM_API_HASH',
      'AWS_SECRET_ACCESS_KEY',
      'SECRET_KEY_BASE',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'sentry_dsn',
      'PGPASSWORD',
      'MYSQL_PWD',
    ]) {
      expect(isSecretSetting(name), name).toBe(true);
    }
    for (const name of [
      'MAIL_PASSWORD_FILE',
      'TOKEN_TTL',
      'SESSION_DRIVER',
      'SESSION_LIFETIME',
      'AWS_ACCESS_KEY_ID',
      'TELEGRAM_API_ID',
      'REDIS_KEY_PREFIX',
      'PWD',
      'QUEUE_LEASE',
      'KEYBOARD',
      'DESKTOP_SESSION',
      'XDG_SESSION_ID',
      'DBUS_SESSION_BUS_ADDRESS',
    ]) {
      expect(isSecretSetting(name), name).toBe(false);
    }
  });

  it('registers the secret settings of .env and the environment when connect() is used', async () => {
    const dir = tempDir('jobsmith-connect-');
    try {
      writeFileSync(path.join(dir.path, '.env'), 'TELEGRAM_SESSION=1BQANOTEuMTA4LjU2\n');
      const { connect } = await import('../src/queue/client.js');
      const client = await connect({ cwd: dir.path });
      await client.close();
      expect(redact('session 1BQANOTEuMTA4LjU2 expired')).toBe('session *** expired');
    } finally {
      dir.cleanup();
    }
  });

  it('finds no secret in an environment without one', () => {
    expect(secretValues({ DB_CONNECTION: 'sqlite', REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual(
      [],
    );
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
      const result = await runCliInHost(args, { cwd: dir.path, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('postgres://bob:***@127.0.0.1:1/app');
      expect(result.stderr).not.toContain('s3cretpw');
    }
  });

  it('mask a password quoted back in a configuration error', async () => {
    const result = await runCliInHost(['about'], {
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

  it('mask the value of a secret setting from .env and the environment, by value', async () => {
    writeFileSync(path.join(dir.path, '.env'), 'MAIL_PASSWORD=hunter2hunter2\n');
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      `throw new Error('SMTP rejected hunter2hunter2 and ' + process.env.OPENAI_API_KEY);\n`,
    );
    const env = appEnv({ OPENAI_API_KEY: 'org-key-0123456789' });
    for (const args of [['about'], ['about', '--verbose']]) {
      const result = await runCliInHost(args, { cwd: dir.path, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('SMTP rejected *** and ***');
      expect(result.stderr).not.toMatch(/hunter2|0123456789/);
    }
  });

  it('bound a 5 MB message, saying how much was cut', async () => {
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      `throw new Error('start ' + 'x'.repeat(5_000_000) + ' end');\n`,
    );
    const result = await runCliInHost(['about'], { cwd: dir.path, env: appEnv() });
    expect(result.code).toBe(1);
    const [first] = result.stderr.split('\n');
    expect(first!.length).toBeLessThanOrEqual(4_000);
    expect(first).toMatch(/^Error: .*start x+…\[4,99\d,\d{3} characters cut\]$/);
    expect(result.stderr.length).toBeLessThan(20_000);
  });

  it('mask a bot token inside an error thrown by the config file, stack included', async () => {
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      `throw new Error('GET https://api.telegram.org/bot${BOT_TOKEN}/getMe: 401');\n`,
    );
    for (const args of [['about'], ['about', '--verbose']]) {
      const result = await runCliInHost(args, { cwd: dir.path, env: appEnv() });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('https://api.telegram.org/bot***/getMe: 401');
      expect(result.stderr).not.toContain(BOT_TOKEN.split(':')[1]);
    }
  });
});
