/*
 * What the two CLI mail test files share: the config, the environment that points bin/run at
 * the smtp-server double (STARTTLS on the test certificate, a login), and `run test:email`
 * through a real worker, checked line by line.
 */
import { expect } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { SMTP_TEST_CA, type SmtpDouble } from './doubles/smtp/index.js';

export const SLOW = 60_000;
export const AUTH = { user: 'mailer', pass: 'smtp-pass-123' };

export const CONFIG = `
import { defineConfig } from 'jobsmith';
export default defineConfig({ mail: {} });
`;

export const mailEnv = (smtp: SmtpDouble, extra: Record<string, string> = {}) => ({
  MAIL_URL: smtp.url,
  MAIL_ENCRYPTION: 'starttls',
  MAIL_FROM: 'Shop <shop@example.com>',
  NODE_EXTRA_CA_CERTS: SMTP_TEST_CA,
  ...extra,
});

export const SENT_LINE =
  /^Sent the (password reset|account activation) message to ada@example\.com( \(mail\.send #\S+\))?: 250 Ok: queued as test-\d+$/;

/** `run test:email` through a worker on the queue `mail`: both messages sent, receipts gone. */
export async function throughTheQueue(app: TestApp, smtp: SmtpDouble) {
  const env = mailEnv(smtp);
  const worker = app.spawn(['queue:work', '--queue', 'mail', '--sleep', '100ms'], { env });
  try {
    await worker.waitForOutput(/processing/, 20_000);
    const before = smtp.messages.length;
    const result = await app.run(['test:email', '--email=ada@example.com', '--timeout', '20s'], {
      env,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Queued mail\.send #\S+ and #\S+ on queue mail; waiting up to 20s for a worker\.\.\.$/,
    );
    expect(lines[1]).toMatch(SENT_LINE);
    expect(lines[2]).toMatch(SENT_LINE);
    expect(lines[3]).toBe('OK: the SMTP server took 2 message(s) through the queue.');
    const subjects = smtp.messages.slice(before).map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]);
    expect(subjects.sort()).toEqual([
      'Activate your account (jobsmith test)',
      'Reset your password (jobsmith test)',
    ]);
    const [{ n }] = await (await app.db()).knex('mail_receipts').count({ n: '*' });
    expect(Number(n)).toBe(0);
  } finally {
    await worker.stop();
  }
}
