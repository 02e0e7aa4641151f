/*
 * The `mail.send` job against a real SMTP server (smtp-server on 127.0.0.1, test/doubles/smtp)
 * through nodemailer, in-process: what a recipient's 5xx and 4xx replies do, and the words a
 * wrong password, a TLS mismatch, a silent server and a closed port get. Receipts are written
 * to a real SQLite file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { isPermanent } from '../src/jobs/errors.js';
import type { JobContext } from '../src/jobs/types.js';
import { mailPayloadSchema, type MailPayload, type SentMail } from '../src/mail/payload.js';
import { readReceipts } from '../src/mail/receipts-store.js';
import { mailSendJob } from '../src/mail/send-job.js';
import { mailSettings, type MailSettings } from '../src/mail/settings.js';
import { closePooledTransports } from '../src/mail/transport.js';
import { classifyMailError } from '../src/mail/errors.js';
import {
  sendNow,
  testMessages,
  verifyServer,
  waitForReceipts,
  TestEmailFailed,
  type QueuedTest,
} from '../src/mail/test-email.js';
import {
  SMTP_TEST_CA,
  startSilentServer,
  startSmtpDouble,
  type SmtpDouble,
} from './doubles/smtp/index.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { sparePort } from './helpers/spare-port.js';

const AUTH = { user: 'app', pass: 'секрет-pass' };
const CA = readFileSync(SMTP_TEST_CA);

function settingsFor(env: Record<string, string>): MailSettings {
  return {
    ...mailSettings(parseEnv({ MAIL_FROM: 'App <app@example.com>', MAIL_TIMEOUT: '1s', ...env })),
    tls: { ca: CA },
  };
}

function context(attempt = 1): JobContext {
  const noop = () => {};
  return {
    signal: new AbortController().signal,
    attempt,
    jobId: `job-${attempt}`,
    queue: 'mail',
    log: { debug: noop, info: noop, warn: noop, error: noop },
    dispatch: () => Promise.reject(new Error('no dispatch here')),
    progress: () => Promise.resolve(),
  };
}

describe('the mail.send payload', () => {
  const problems = (p: Record<string, unknown>) => {
    const parsed = mailPayloadSchema.safeParse({ subject: 's', text: 't', ...p });
    return parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses at dispatch a recipient or sender with no address in it (no retry could send it)', () => {
    const help = 'an address like ada@example.com or "Ada <ada@example.com>"';
    expect(problems({ to: 'bad' })).toEqual([`to: ${help}`]);
    expect(problems({ to: ['ada@example.com', 'Bob'] })).toEqual([`to.1: ${help}`]);
    expect(problems({ to: 'ada@example.com', from: 'Shop' })).toEqual([`from: ${help}`]);
  });

  it('takes the address forms nodemailer takes', () => {
    expect(problems({ to: 'ada@example.com' })).toEqual([]);
    expect(problems({ to: 'Ada Lovelace <ada@example.com>' })).toEqual([]);
    expect(
      problems({ to: 'ada@example.com, bob@example.com', cc: ['"B, C" <c@example.com>'] }),
    ).toEqual([]);
  });
});

describe('mail settings', () => {
  const of = (env: Record<string, string>) => {
    const { timeoutMs: _t, ...rest } = mailSettings(parseEnv(env));
    return rest;
  };

  it('reads MAIL_URL: smtps:// is TLS on 465, a percent-encoded password is decoded', () => {
    expect(of({ MAIL_URL: 'smtps://me%40example.com:p%40ss%3Aword@smtp.example.com' })).toEqual({
      host: 'smtp.example.com',
      port: 465,
      encryption: 'tls',
      username: 'me@example.com',
      password: 'p@ss:word',
      from: undefined,
      source: 'MAIL_URL',
    });
    expect(of({ MAIL_URL: 'smtp://smtp.example.com', MAIL_ENCRYPTION: 'starttls' })).toMatchObject({
      port: 587,
      encryption: 'starttls',
      username: undefined,
    });
  });

  it('reads MAIL_HOST and friends; the port follows the encryption, ssl is tls', () => {
    expect(of({ MAIL_HOST: 'mx', MAIL_ENCRYPTION: 'ssl', MAIL_FROM: 'a@b.c' })).toMatchObject({
      port: 465,
      encryption: 'tls',
      from: 'a@b.c',
      source: 'MAIL_HOST',
    });
    expect(of({ MAIL_HOST: 'mx', MAIL_ENCRYPTION: 'none' })).toMatchObject({ port: 25 });
    expect(of({ MAIL_HOST: 'mx', MAIL_PORT: '465' })).toMatchObject({ encryption: 'tls' });
    expect(of({ MAIL_HOST: 'mx', MAIL_PORT: '2525' })).toMatchObject({ encryption: 'auto' });
  });

  it('refuses a bad MAIL_ENCRYPTION, naming what is allowed', () => {
    expect(() => parseEnv({ MAIL_ENCRYPTION: 'SSL/TLS' })).toThrow(
      'Invalid configuration: MAIL_ENCRYPTION="SSL/TLS" is not valid; expected one of: tls, ssl, starttls, none.',
    );
  });
});

describe('mail.send', () => {
  let dir: TempDir;
  let db: Database;
  let starttls: SmtpDouble;
  let implicit: SmtpDouble;

  beforeAll(async () => {
    dir = tempDir('jobsmith-mail-');
    db = await openDatabase(parseEnv({ DB_DATABASE: path.join(dir.path, 'db.sqlite') }), dir.path);
    await migrateLatest(db);
    starttls = await startSmtpDouble({ security: 'starttls', auth: AUTH });
    implicit = await startSmtpDouble({ security: 'tls', auth: AUTH });
  });
  afterAll(async () => {
    await closePooledTransports();
    await starttls?.close();
    await implicit?.close();
    await db?.knex.destroy();
    dir?.cleanup();
  });

  const send = (settings: MailSettings, payload: MailPayload, attempt = 1) =>
    mailSendJob({ settings: () => settings, db: async () => db }).handle(
      payload,
      context(attempt),
    ) as Promise<SentMail>;
  const failure = async (settings: MailSettings, payload: MailPayload) => {
    const error = await send(settings, payload).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, 'the send succeeded').toBeInstanceOf(Error);
    return { message: error!.message, permanent: isPermanent(error) };
  };
  const message = (to: string): MailPayload => ({ to, subject: 'Hello', text: 'Hi there' });

  it('sends over STARTTLS with a login, attachments by path, and answers with the server’s reply', async () => {
    const file = path.join(dir.path, 'report.txt');
    writeFileSync(file, 'quarterly numbers');
    const settings = settingsFor({
      MAIL_URL: starttls.url,
      MAIL_ENCRYPTION: 'starttls',
      MAIL_ATTACHMENT_DIRS: dir.path,
    });
    const sent = await send(settings, {
      to: ['ada@example.com', 'Bob <bob@example.com>'],
      cc: 'carol@example.com',
      bcc: 'dan@example.com',
      subject: 'Report',
      text: 'See attached',
      html: '<p>See attached</p>',
      attachments: [{ path: file, filename: 'q3.txt' }],
    });
    expect(sent.response).toMatch(/^250 Ok: queued as test-\d+$/);
    expect(sent.accepted).toEqual([
      'ada@example.com',
      'bob@example.com',
      'carol@example.com',
      'dan@example.com',
    ]);
    const got = starttls.messages.at(-1)!;
    expect(got.user).toBe('app');
    expect(got.from).toBe('app@example.com');
    expect(got.to).toEqual([
      'ada@example.com',
      'bob@example.com',
      'carol@example.com',
      'dan@example.com',
    ]);
    expect(got.raw).toContain('Subject: Report');
    expect(got.raw).toContain('filename=q3.txt');
    expect(got.raw).not.toMatch(/^Bcc:/m);
  });

  it('fails at once (Permanent), sending nothing, for an attachment outside MAIL_ATTACHMENT_DIRS, hidden or missing', async () => {
    writeFileSync(path.join(dir.path, 'report.txt'), 'quarterly numbers');
    writeFileSync(path.join(dir.path, '.env'), 'MAIL_PASSWORD=secret');
    const before = starttls.messages.length;
    const attach = (file: string, env: Record<string, string> = {}) =>
      failure(settingsFor({ MAIL_URL: starttls.url, ...env }), {
        ...message('ada@example.com'),
        attachments: [{ path: file }],
      });
    // By default only the working directory: the temp folder is outside it.
    const outside = path.join(dir.path, 'report.txt');
    expect(await attach(outside)).toEqual({
      permanent: true,
      message: `Cannot attach ${outside}: it is outside the folders files are read from (${process.cwd()}): put it in one of them, or add its folder to MAIL_ATTACHMENT_DIRS (comma-separated).`,
    });
    expect(await attach(path.join(dir.path, '.env'), { MAIL_ATTACHMENT_DIRS: dir.path })).toEqual({
      permanent: true,
      message: `Cannot attach ${path.join(dir.path, '.env')}: it is a hidden file or in a hidden folder (such as .env), which is never read.`,
    });
    expect(
      await attach(path.join(dir.path, 'gone.txt'), { MAIL_ATTACHMENT_DIRS: dir.path }),
    ).toEqual({
      permanent: true,
      message: `Cannot attach ${path.join(dir.path, 'gone.txt')}: no such file.`,
    });
    expect(starttls.messages.length).toBe(before);
  });

  it('reuses the pooled connection for the next messages', async () => {
    const settings = settingsFor({ MAIL_URL: starttls.url });
    await send(settings, message('one@example.com'));
    const before = starttls.connections;
    await send(settings, message('two@example.com'));
    await send(settings, message('three@example.com'));
    expect(starttls.connections).toBe(before);
  });

  it('fails at once (Permanent) when the server refuses the recipient with a 5xx', async () => {
    starttls.reply('gone@example.com', 550, 'No such user here');
    const result = await failure(
      settingsFor({ MAIL_URL: starttls.url }),
      message('gone@example.com'),
    );
    expect(result).toEqual({
      permanent: true,
      message: `127.0.0.1:${starttls.port} (STARTTLS if offered) refused the recipient: 550 No such user here (a permanent refusal; sending again will not help).`,
    });
  });

  it('retries (not Permanent) when the server defers the recipient with a 4xx', async () => {
    starttls.reply('busy@example.com', 451, 'Try again later');
    const result = await failure(
      settingsFor({ MAIL_URL: starttls.url }),
      message('busy@example.com'),
    );
    expect(result).toEqual({
      permanent: false,
      message: `127.0.0.1:${starttls.port} (STARTTLS if offered) deferred the message: 451 Try again later (temporary: a later attempt may get through).`,
    });
  });

  it('says MAIL_PASSWORD is not set when a user is set without one, not that the server refused (retried)', async () => {
    const settings = settingsFor({
      MAIL_HOST: '127.0.0.1',
      MAIL_PORT: String(starttls.port),
      MAIL_USERNAME: 'app',
    });
    expect(await failure(settings, message('ada@example.com'))).toEqual({
      permanent: false,
      message: `Cannot log in to 127.0.0.1:${starttls.port} (STARTTLS if offered): a user is set and no password; set MAIL_PASSWORD.`,
    });
  });

  it('names MAIL_USERNAME and MAIL_PASSWORD when the login is refused (retried)', async () => {
    const settings = settingsFor({
      MAIL_HOST: '127.0.0.1',
      MAIL_PORT: String(starttls.port),
      MAIL_USERNAME: 'app',
      MAIL_PASSWORD: 'wrong-password',
    });
    const result = await failure(settings, message('ada@example.com'));
    expect(result.permanent).toBe(false);
    expect(result.message).toBe(
      `127.0.0.1:${starttls.port} (STARTTLS if offered) refused the login (535 Authentication credentials invalid): check MAIL_USERNAME and MAIL_PASSWORD.`,
    );
  });

  it('explains TLS on a STARTTLS port', async () => {
    const result = await failure(
      settingsFor({
        MAIL_HOST: '127.0.0.1',
        MAIL_PORT: String(starttls.port),
        MAIL_ENCRYPTION: 'tls',
      }),
      message('ada@example.com'),
    );
    expect(result.permanent).toBe(false);
    expect(result.message).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1:${starttls.port} \\(tls\\): the TLS handshake failed \\(the server answered in plain text, not TLS\\)\\. The server may speak plain text first \\(STARTTLS, port 587\\): try MAIL_ENCRYPTION=starttls\\.$`,
      ),
    );
  });

  it('explains STARTTLS on a TLS port: the greeting never comes (within MAIL_TIMEOUT)', async () => {
    const started = Date.now();
    const result = await failure(
      settingsFor({
        MAIL_HOST: '127.0.0.1',
        MAIL_PORT: String(implicit.port),
        MAIL_ENCRYPTION: 'starttls',
      }),
      message('ada@example.com'),
    );
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(result).toEqual({
      permanent: false,
      message: `127.0.0.1:${implicit.port} (starttls): the connection opened, but the server's greeting never came within 1s. This usually means TLS on a STARTTLS port or the reverse (465 is TLS from the start, 587 is STARTTLS: set MAIL_ENCRYPTION to match the port), or a firewall that lets the connection through but not the traffic.`,
    });
  });

  it('sends over TLS from the first byte (smtps://)', async () => {
    const sent = await send(settingsFor({ MAIL_URL: implicit.url }), message('ada@example.com'));
    expect(sent.response).toMatch(/^250 Ok/);
    expect(implicit.messages.at(-1)!.to).toEqual(['ada@example.com']);
  });

  it('names host:port when nothing listens there (ECONNREFUSED)', async () => {
    const port = await sparePort();
    const result = await failure(
      settingsFor({ MAIL_HOST: '127.0.0.1', MAIL_PORT: String(port) }),
      message('ada@example.com'),
    );
    expect(result).toEqual({
      permanent: false,
      message: `Nothing accepts connections at 127.0.0.1:${port} (ECONNREFUSED): check the host and port in MAIL_HOST and MAIL_PORT, and that the mail server runs.`,
    });
  });

  it('gives up on a silent server after MAIL_TIMEOUT, not nodemailer’s minutes', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const result = await failure(
        settingsFor({
          MAIL_HOST: '127.0.0.1',
          MAIL_PORT: String(silent.port),
          MAIL_TIMEOUT: '500ms',
        }),
        message('ada@example.com'),
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(result.permanent).toBe(false);
      expect(result.message).toContain("the server's greeting never came within 0.5s.");
    } finally {
      await silent.close();
    }
  });

  it('fails at once without a sender (no MAIL_FROM, no from)', async () => {
    const settings = { ...settingsFor({ MAIL_URL: starttls.url }), from: undefined };
    expect(await failure(settings, message('ada@example.com'))).toEqual({
      permanent: true,
      message: 'The message has no sender: set MAIL_FROM, or give `from` in the payload.',
    });
  });

  it('writes the outcome to mail_receipts when the payload asks', async () => {
    const settings = settingsFor({ MAIL_URL: starttls.url });
    const ok = '6b0f6f3e-2a7e-4c55-9d4a-0b7d3f1e8a01';
    const bad = '6b0f6f3e-2a7e-4c55-9d4a-0b7d3f1e8a02';
    starttls.reply('nobody@example.com', 550, 'Unknown user');
    await send(settings, { ...message('ada@example.com'), receipt: ok });
    await send(settings, { ...message('nobody@example.com'), receipt: bad }, 2).catch(() => {});
    const rows = Object.fromEntries((await readReceipts(db, [ok, bad])).map((r) => [r.receipt, r]));
    expect(rows[ok]).toMatchObject({ status: 'sent', jobId: 'job-1', attempt: 1, error: null });
    expect(rows[ok]!.response).toMatch(/^250 Ok: queued as test-\d+$/);
    expect(rows[bad]).toMatchObject({
      status: 'failed',
      jobId: 'job-2',
      attempt: 2,
      response: null,
    });
    expect(rows[bad]!.error).toContain('refused the recipient: 550 Unknown user');
  });
  it('retries, naming MAIL_USERNAME and MAIL_PASSWORD, when the server wants a login and none is set (530)', async () => {
    const result = await failure(
      settingsFor({ MAIL_HOST: '127.0.0.1', MAIL_PORT: String(starttls.port) }),
      message('ada@example.com'),
    );
    expect(result).toEqual({
      permanent: false,
      message: `127.0.0.1:${starttls.port} (STARTTLS if offered) asks for a login, and none is set: set MAIL_USERNAME and MAIL_PASSWORD. (530 Error: authentication Required)`,
    });
  });

  it('--dry-run’s check says when the server offers a login and none is set', async () => {
    const bare = await startSmtpDouble({ security: 'none', offerAuth: false });
    try {
      const noLogin = (port: number) =>
        settingsFor({ MAIL_HOST: '127.0.0.1', MAIL_PORT: String(port) });
      expect(await verifyServer(noLogin(starttls.port))).toEqual({
        server: `127.0.0.1:${starttls.port} (STARTTLS if offered)`,
        login: 'offered, none set',
      });
      expect((await verifyServer(noLogin(bare.port))).login).toBe('none asked');
      expect((await verifyServer(settingsFor({ MAIL_URL: starttls.url }))).login).toBe('logged in');
    } finally {
      await bare.close();
    }
  });

  it('--now tries both messages when the server refuses the address, and reports both', async () => {
    starttls.reply('refused@example.com', 550, 'No such user');
    const settings = settingsFor({ MAIL_URL: starttls.url });
    const error = await sendNow(settings, testMessages('refused@example.com')).catch((e) => e);
    expect(error).toBeInstanceOf(TestEmailFailed);
    const refusal = `127.0.0.1:${starttls.port} (STARTTLS if offered) refused the recipient: 550 No such user (a permanent refusal; sending again will not help).`;
    expect((error as TestEmailFailed).message).toBe(
      `The password reset message was not sent: ${refusal}\nThe account activation message was not sent: ${refusal}`,
    );
    expect((error as TestEmailFailed).outcomes.map((o) => [o.kind, o.status])).toEqual([
      ['password reset', 'failed'],
      ['account activation', 'failed'],
    ]);
  });

  describe('waiting for the receipts of run test:email', () => {
    let n = 0;
    /** Runs mail.send for each message as a worker would, each with a receipt. */
    const queue = async (to: string[]): Promise<{ queue: string; jobs: QueuedTest[] }> => {
      const settings = settingsFor({ MAIL_URL: starttls.url });
      const jobs: QueuedTest[] = [];
      for (const [i, address] of to.entries()) {
        const receipt = `7c0e1d2a-0000-4000-8000-${String(++n).padStart(12, '0')}`;
        jobs.push({ kind: `message ${i + 1}`, to: address, jobId: `job-1`, receipt });
        await send(settings, { ...message(address), receipt }).catch(() => {});
      }
      return { queue: 'mail', jobs };
    };
    /** The failure waiting ends with; fails the test when all were sent. */
    const wait = async (queued: { queue: string; jobs: QueuedTest[] }, afterFailureMs = 2_000) => {
      const error = await waitForReceipts({ db: async () => db }, queued, {
        timeoutMs: 10_000,
        intervalMs: 20,
        afterFailureMs,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TestEmailFailed);
      return error as TestEmailFailed;
    };

    it('says that a deferred (451) message waits in its queue for a retry, not in failed jobs', async () => {
      starttls.reply('grey@example.com', 451, 'Greylisted');
      const error = await wait(await queue(['grey@example.com', 'grey@example.com']));
      expect(error).toBeInstanceOf(TestEmailFailed);
      const deferred = `was not sent yet: 127.0.0.1:${starttls.port} (STARTTLS if offered) deferred the message: 451 Greylisted (temporary: a later attempt may get through). (attempt 1 failed; the job waits in queue mail for the worker to try again with the backoff).`;
      expect(error.message).toBe(
        `The message 1 message (mail.send #job-1) ${deferred}\nThe message 2 message (mail.send #job-1) ${deferred}`,
      );
      expect(error.hint).toBe(
        'Jobs waiting for their next attempt are not in failed jobs: run queue:list mail --state delayed to watch them.',
      );
      expect(error.outcomes.map((o) => o.status)).toEqual(['retrying', 'retrying']);
    });

    it('reports every message: one sent, one refused, one no worker took in time', async () => {
      starttls.reply('nobody@example.com', 550, 'Unknown user');
      const queued = await queue(['ada@example.com', 'nobody@example.com']);
      queued.jobs.push({
        kind: 'message 3',
        to: 'late@example.com',
        jobId: 'job-9',
        receipt: '7c0e1d2a-0000-4000-8000-999999999999',
      });
      const started = Date.now();
      const error = await wait(queued, 300);
      // Once one failed, the others get afterFailureMs, not the whole timeout.
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error).toBeInstanceOf(TestEmailFailed);
      expect(error.outcomes.map((o) => o.status)).toEqual(['sent', 'failed', 'not sent']);
      expect(error.outcomes[0]!.response).toMatch(/^250 Ok/);
      expect(error.message).toBe(
        `The message 2 message (mail.send #job-1) was not sent: 127.0.0.1:${starttls.port} (STARTTLS if offered) refused the recipient: 550 Unknown user (a permanent refusal; sending again will not help).\n` +
          'The message 3 message (mail.send #job-9) was not sent within 10s: is a worker running for queue mail? (run queue:work --queue mail)',
      );
      expect(error.hint).toBe(
        'Failed jobs: run queue:failed --name mail.send.\nJobs no worker took stay queued; a worker sends them when it starts. --no-wait only queues them.',
      );
    });
  });
});

describe('classifyMailError', () => {
  const settings = mailSettings(parseEnv({ MAIL_HOST: 'mx.example.com' }));
  const mailFrom = (responseCode: number, response: string) =>
    classifyMailError(
      { code: 'EENVELOPE', command: 'MAIL FROM', responseCode, response },
      settings,
    );

  it('takes a 5.7.0/5.7.1 answer about authentication to MAIL FROM as a missing login', () => {
    expect(mailFrom(550, '550 5.7.1 Authentication required')).toEqual({
      permanent: false,
      description:
        'mx.example.com:587 (STARTTLS if offered) asks for a login, and none is set: set MAIL_USERNAME and MAIL_PASSWORD. (550 5.7.1 Authentication required)',
    });
    expect(mailFrom(530, '530 5.7.0 Must issue a STARTTLS command first')).toEqual({
      permanent: false,
      description:
        'mx.example.com:587 (STARTTLS if offered) wants TLS first (530 5.7.0 Must issue a STARTTLS command first): set MAIL_ENCRYPTION=starttls, or tls on its TLS port.',
    });
  });

  it('keeps other 5.7.1 refusals of the sender permanent', () => {
    expect(mailFrom(553, '553 5.7.1 Sender address rejected: not owned by user').permanent).toBe(
      true,
    );
  });
});
