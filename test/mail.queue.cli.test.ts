/*
 * `mail.send` through real workers (bin/run) against the smtp-server double: what a 5xx and a
 * 4xx reply do to the job on SQLite, and `run test:email` through the queue on Redis, where the
 * job lives in Redis and its receipt in the SQL storage. mail.cli.test.ts has the rest.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, cliEnv } from './helpers/cli.js';
import { createApp, describeBackend, type AppBackend, type TestApp } from './helpers/app.js';
import { startSmtpDouble, type SmtpDouble } from './doubles/smtp/index.js';
import { AUTH, CONFIG, mailEnv, SLOW, throughTheQueue } from './mail.fixture.js';

describe('mail.send through a worker (sqlite)', () => {
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

  it(
    '--no-wait only queues; a 5xx fails the job at once, a 4xx keeps it for a retry',
    async () => {
      const env = mailEnv(smtp);
      smtp.reply('gone@example.com', 550, 'Mailbox unavailable');
      smtp.reply('later@example.com', 451, 'Greylisted, come back later');
      const queued = await app.run(['test:email', '--email=gone@example.com', '--no-wait'], {
        env,
      });
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout).toMatch(
        /^Queued the password reset message as mail\.send #\S+ on queue mail\.\nQueued the account activation message as mail\.send #\S+ on queue mail\.\nA worker sends them \(run queue:work --queue mail\)\.\n$/,
      );
      const dispatched = await app.run(
        [
          'queue:dispatch',
          'mail.send',
          '--payload',
          JSON.stringify({ to: 'later@example.com', subject: 'Hi', text: 'Hello' }),
        ],
        { env },
      );
      expect(dispatched.code, dispatched.stderr).toBe(0);
      const worked = await app.run(
        ['queue:work', '--queue', 'mail', '--stop-when-empty', '--sleep', '100ms'],
        // The deferred job comes back in an hour, not during the next tests.
        { env: { ...env, QUEUE_MAIL_BACKOFF: '3600' } },
      );
      expect(worked.code, worked.stderr).toBe(0);
      const failed = JSON.parse(
        (await app.run(['queue:failed', '--json'], { env })).stdout,
      ) as Array<{ name: string; attempts: number; reason: string; exception: string }>;
      const gone = failed.filter((f) => f.name === 'mail.send');
      expect(gone).toHaveLength(2);
      for (const f of gone) {
        expect(f.exception).toContain('refused the recipient: 550 Mailbox unavailable');
      }
      const waiting = JSON.parse(
        (await app.run(['queue:list', 'mail', '--json'], { env })).stdout,
      ) as Array<{ attempts: number; last_error?: string; lastError?: string }>;
      expect(waiting).toHaveLength(1);
      expect(JSON.stringify(waiting[0])).toContain(
        'deferred the message: 451 Greylisted, come back later',
      );
    },
    SLOW,
  );

  it(
    'sendMail() from application code queues a mail.send job that a worker sends',
    async () => {
      const dist = (file: string) => JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', file));
      writeFileSync(
        path.join(app.cwd, 'send.mjs'),
        `import { sendMail } from ${dist('mail/index.js')};
import { disconnect } from ${dist('index.js')};
const { id } = await sendMail({ to: 'code@example.com', subject: 'From code', text: 'Hello' });
console.log(id);
await disconnect();
`,
      );
      const sent = spawnSync(process.execPath, ['send.mjs'], {
        cwd: app.cwd,
        env: cliEnv({ ...app.env, ...mailEnv(smtp) }),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(sent.stderr).toBe('');
      expect(sent.stdout).toMatch(/^\S+\n$/);
      const worked = await app.run(
        ['queue:work', '--queue', 'mail', '--once', '--sleep', '100ms'],
        {
          env: mailEnv(smtp),
        },
      );
      expect(worked.code, worked.stderr).toBe(0);
      const got = smtp.messages.find((m) => m.to.includes('code@example.com'));
      expect(got?.from).toBe('shop@example.com');
      expect(got?.raw).toContain('Subject: From code');
    },
    SLOW,
  );

  it(
    'test:email exits 1 with the reason when the worker has no mail settings',
    async () => {
      const waiting = app.spawn(['test:email', '--email=ada@example.com', '--timeout', '30s'], {
        env: mailEnv(smtp),
      });
      await waiting.waitForOutput(/waiting up to 30s/, 20_000);
      const worked = await app.run([
        'queue:work',
        '--queue',
        'mail',
        '--stop-when-empty',
        '--sleep',
        '100ms',
      ]);
      expect(worked.code, worked.stderr).toBe(0);
      const result = await waiting.exited;
      expect(result.code).toBe(1);
      // Both messages, each waiting for a retry: not in failed jobs, and the hint says so.
      const line = (kind: string) =>
        `The ${kind} message \\(mail\\.send #\\S+\\) was not sent yet: Mail is not configured: set MAIL_URL .+ \\(attempt 1 failed; the job waits in queue mail for the worker to try again with the backoff\\)\\.`;
      expect(result.stderr).toMatch(
        new RegExp(
          `^Error: ${line('password reset')}\\n${line('account activation')}\\nJobs waiting for their next attempt are not in failed jobs: run queue:list mail --state delayed to watch them\\.\\n$`,
        ),
      );
    },
    SLOW,
  );
});

for (const backend of ['redis'] as AppBackend[]) {
  describeBackend(backend, 'run test:email through the queue', () => {
    let app: TestApp;
    let smtp: SmtpDouble;
    beforeAll(async () => {
      app = await createApp(backend, CONFIG);
      smtp = await startSmtpDouble({ security: 'starttls', auth: AUTH });
    }, SLOW);
    afterAll(async () => {
      await smtp?.close();
      await app?.cleanup();
    });

    it(
      'queues both and waits until a worker has sent them',
      async () => {
        await throughTheQueue(app, smtp);
      },
      SLOW,
    );
  });
}
