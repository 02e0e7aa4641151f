/*
 * `run test:email` and `mail.send` through a real worker, the way an operator runs them: bin/run
 * against the smtp-server double (STARTTLS on the test certificate, trusted through
 * NODE_EXTRA_CA_CERTS, and a login), on SQLite. mail.queue.cli.test.ts has the job's failures
 * through a worker, and the Redis run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { startSmtpDouble, type SmtpDouble } from './doubles/smtp/index.js';
import { AUTH, CONFIG, mailEnv, SENT_LINE, SLOW, throughTheQueue } from './mail.fixture.js';

describe('run test:email and mail.send (sqlite)', () => {
  let app: TestApp;
  let smtp: SmtpDouble;
  beforeAll(async () => {
    app = await createApp('sqlite', CONFIG);
    smtp = await startSmtpDouble({ security: 'starttls', auth: AUTH });
  }, SLOW);
  afterAll(async () => {
    await smtp?.close();
    await app?.cleanup();
  });

  it('says which variables to set when mail is not configured (exit 3)', async () => {
    const result = await app.run(['test:email', '--email=ada@example.com']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: Mail is not configured: set MAIL_URL (smtp://host:587 or smtps://host:465, with user:password@ before the host), or MAIL_HOST with MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_ENCRYPTION (tls|starttls|none) and MAIL_FROM.\n',
    );
  });

  it('needs --email without a terminal (exit 2) and names a bad MAIL_PORT', async () => {
    const missing = await app.run(['test:email'], { env: mailEnv(smtp) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'Error: --email is required when no terminal is attached: the address to send the test to.\n',
    );
    const port = await app.run(['test:email', '--email=a@b.c'], {
      env: { MAIL_HOST: 'smtp.example.com', MAIL_PORT: 'abc' },
    });
    expect(port.code).toBe(1);
    expect(port.stderr).toContain(
      'MAIL_PORT="abc" is not valid; expected a port number from 1 to 65535.',
    );
  });

  it('refuses flags that mean nothing together (exit 2) and sends nothing', async () => {
    const before = smtp.messages.length;
    for (const [flags, message] of [
      [['--now', '--no-wait'], "option '--now' cannot be used with option '--no-wait'"],
      [
        ['--now', '--timeout', '5s'],
        "option '--now' cannot be used with option '--timeout <duration>'",
      ],
      [
        ['--no-wait', '--timeout', '5s'],
        "option '--no-wait' cannot be used with option '--timeout <duration>'",
      ],
    ] as const) {
      const result = await app.run(['test:email', '--email=a@b.c', ...flags], {
        env: mailEnv(smtp),
      });
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(smtp.messages.length).toBe(before);
  });

  it('--dry-run connects and logs in, and sends nothing', async () => {
    const before = smtp.messages.length;
    const ok = await app.run(['test:email', '--dry-run'], { env: mailEnv(smtp) });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe(
      `OK: connected to 127.0.0.1:${smtp.port} (starttls) and logged in as mailer; nothing was sent.\n`,
    );
    expect(smtp.messages.length).toBe(before);
    const wrong = await app.run(['test:email', '--dry-run'], {
      env: mailEnv(smtp, { MAIL_URL: smtp.url.replace('smtp-pass-123', 'nope-nope') }),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `Error: 127.0.0.1:${smtp.port} (starttls) refused the login (535 Authentication credentials invalid): check the user and password in MAIL_URL.\n`,
    );
    const none = await app.run(['test:email', '--dry-run'], {
      env: mailEnv(smtp, { MAIL_URL: smtp.url.replace('mailer:smtp-pass-123@', '') }),
    });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe(
      `Warning: connected to 127.0.0.1:${smtp.port} (starttls); it offers a login (AUTH), and none is set. If it requires one, it refuses the messages (530 authentication required): set the user and password in MAIL_URL. Nothing was sent.\n`,
    );
  });

  it('--now sends both messages without the queue and prints the server’s answers', async () => {
    const before = smtp.messages.length;
    const result = await app.run(['test:email', '--email', 'ada@example.com', '--now'], {
      env: mailEnv(smtp),
    });
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(SENT_LINE);
    expect(lines[0]).toContain('password reset');
    expect(lines[1]).toContain('account activation');
    expect(lines[2]).toBe('OK: the SMTP server took 2 message(s) directly.');
    const sent = smtp.messages.slice(before);
    expect(sent.map((m) => [m.from, m.to, m.user])).toEqual([
      ['shop@example.com', ['ada@example.com'], 'mailer'],
      ['shop@example.com', ['ada@example.com'], 'mailer'],
    ]);
    expect(sent[0]!.raw).toContain('https://example.com/password/reset/');
  });

  it('--now exits 1 with the reason when the server refuses the address', async () => {
    smtp.reply('gone@example.com', 550, 'Mailbox unavailable');
    const result = await app.run(['test:email', '--email=gone@example.com', '--now'], {
      env: mailEnv(smtp),
    });
    expect(result.code).toBe(1);
    const refusal = `127.0.0.1:${smtp.port} (starttls) refused the recipient: 550 Mailbox unavailable (a permanent refusal; sending again will not help).`;
    expect(result.stderr).toBe(
      `Error: The password reset message was not sent: ${refusal}\nThe account activation message was not sent: ${refusal}\n`,
    );
    // --json: the failure as JSON on stdout too, every message's outcome in it.
    const json = await app.run(['test:email', '--email=gone@example.com', '--now', '--json'], {
      env: mailEnv(smtp),
    });
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(result.stderr);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: `The password reset message was not sent: ${refusal}\nThe account activation message was not sent: ${refusal}`,
      messages: [
        {
          kind: 'password reset',
          to: 'gone@example.com',
          status: 'failed',
          error: `was not sent: ${refusal}`,
        },
        {
          kind: 'account activation',
          to: 'gone@example.com',
          status: 'failed',
          error: `was not sent: ${refusal}`,
        },
      ],
    });
  });

  it(
    'queues both and waits until a worker has sent them',
    async () => {
      await throughTheQueue(app, smtp);
    },
    SLOW,
  );
});
