/**
 * What `run queue:work` writes about jobs: a JSON line in LOG_FILE for each of a job's events
 * with its id, name, queue, attempt and (once it ran) duration, also for the lines its handler
 * logs; secrets in errors masked by pattern and by value; and on a terminal each event shown
 * once (the renderer's line), where pino's readable copy of the log line used to repeat it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { runOnTerminal, terminalAvailable } from './helpers/terminal.js';

const SLOW = 60_000;

// Shapes a secret takes (redact.ts patterns), none of them a setting's value.
const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const OPENAI_KEY = 'sk-proj4Xq9Lw2Vb7Nc1Md8Ke3Jf6Hg';
const URL_PASSWORD = 'hunter2pw';
// A secret setting's value, which no pattern knows: masked by value.
const PLAIN_SECRET = 'plain-value-of-a-secret-9f1c';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';

export const hello = defineJob({
  name: 'hello',
  queue: 'mail',
  async handle(p, ctx) {
    ctx.log.info('saying hello', { to: p.to });
  },
});

export const leaky = defineJob({
  name: 'leaky',
  tries: 2,
  backoff: [0],
  async handle(p, ctx) {
    ctx.log.warn('calling with ${BOT_TOKEN}');
    throw new Error(
      'POST https://api.telegram.org/bot${BOT_TOKEN}/sendMessage failed; key ${OPENAI_KEY}; ' +
        'db postgres://app:${URL_PASSWORD}@db.internal/app; vault ${PLAIN_SECRET}',
    );
  },
});

export default defineConfig({ jobs: [hello, leaky] });
`;

type Line = Record<string, unknown> & { msg?: string; event?: string };

const readLines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('queue:work log lines', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createApp('sqlite', CONFIG);
  }, SLOW);
  afterEach(() => app?.cleanup());

  const ok = async (args: string[], env: Record<string, string> = {}) => {
    const result = await app.run(args, { env });
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  it(
    'puts the job id, name, queue, attempt and duration on every job line in LOG_FILE',
    async () => {
      const env = { LOG_FILE: 'logs/worker.jsonl' };
      await ok(['queue:dispatch', 'hello', '--payload', '{"to":"ann"}'], env);
      await ok(['queue:work', 'database', '--queue', 'mail', '--stop-when-empty'], env);
      // LOG_FILE names the file; the default one is not written.
      expect(existsSync(path.join(app.cwd, 'storage/logs/app.log'))).toBe(false);
      const lines = readLines(path.join(app.cwd, 'logs/worker.jsonl'));
      const job = { id: expect.any(String), name: 'hello', queue: 'mail', attempt: 1 };
      const processed = lines.filter((l) => l.event === 'job:processed');
      expect(processed).toEqual([
        expect.objectContaining({ msg: 'job processed', job, durationMs: expect.any(Number) }),
      ]);
      // A line the handler logs carries its job too.
      expect(lines.filter((l) => l.msg === 'saying hello')).toEqual([
        expect.objectContaining({ to: 'ann', job }),
      ]);
      expect(lines.map((l) => l.event).filter(Boolean)).toEqual([
        'worker:started',
        'job:processed',
        'worker:stopping',
        'worker:stopped',
      ]);
    },
    SLOW,
  );

  it(
    'masks a bot token, an sk- key, a URL password and a secret setting inside error messages',
    async () => {
      const env = { SERVICE_VAULT_TOKEN: PLAIN_SECRET };
      await ok(['queue:dispatch', 'leaky', '--payload', '{}'], env);
      const worked = await ok(['queue:work', '--stop-when-empty', '--sleep', '100ms'], env);
      const file = path.join(app.cwd, 'storage/logs/app.log');
      const text = readFileSync(file, 'utf8');
      for (const secret of [BOT_TOKEN.split(':')[1]!, OPENAI_KEY, URL_PASSWORD, PLAIN_SECRET]) {
        expect(text).not.toContain(secret);
        expect(worked.stdout + worked.stderr).not.toContain(secret);
      }
      const lines = readLines(file);
      const masked =
        'POST https://api.telegram.org/bot***/sendMessage failed; key sk-***; db postgres://app:***@db.internal/app; vault ***';
      const job = (attempt: number) => ({
        id: expect.any(String),
        name: 'leaky',
        queue: 'default',
        attempt,
      });
      expect(lines.filter((l) => l.event === 'job:released')).toEqual([
        expect.objectContaining({ job: job(1), error: masked, durationMs: expect.any(Number) }),
      ]);
      expect(lines.filter((l) => l.event === 'job:failed')).toEqual([
        expect.objectContaining({ job: job(2), error: masked, reason: 'error' }),
      ]);
      expect(lines.filter((l) => l.msg?.startsWith('calling with'))).toEqual([
        expect.objectContaining({ msg: 'calling with ***', job: job(1) }),
        expect.objectContaining({ msg: 'calling with ***', job: job(2) }),
      ]);
    },
    SLOW,
  );

  it(
    'prints each job event once when stdout is not a terminal, and nothing of it on stderr',
    async () => {
      await ok(['queue:dispatch', 'hello', '--payload', '{"to":"bo"}']);
      const worked = await ok(['queue:work', '--queue', 'mail', '--stop-when-empty']);
      expect(worked.stdout.match(/ hello #\S+ RUNNING /g)).toHaveLength(1);
      expect(worked.stdout.match(/ hello #\S+ DONE /g)).toHaveLength(1);
      expect(worked.stderr).toBe('');
    },
    SLOW,
  );

  describe.skipIf(!terminalAvailable)('on a terminal', () => {
    const onTerminal = (args: string[]) =>
      runOnTerminal(args, { cwd: app.cwd, env: app.env, timeoutMs: SLOW - 5_000 });

    it(
      'shows each worker event once, and a line the handler logs once',
      async () => {
        await ok(['queue:dispatch', 'hello', '--payload', '{"to":"cy"}']);
        await ok(['queue:dispatch', 'leaky', '--payload', '{}', '--tries', '1']);
        const { code, output } = await onTerminal([
          'queue:work',
          '--queue',
          'mail,default',
          '--stop-when-empty',
        ]);
        expect(code, output).toBe(0);
        const count = (pattern: RegExp) => output.match(new RegExp(pattern, 'g'))?.length ?? 0;
        expect(count(/ hello #\S+ RUNNING /)).toBe(1);
        expect(count(/ hello #\S+ DONE /)).toBe(1);
        expect(count(/ leaky #\S+ RUNNING /)).toBe(1);
        expect(count(/ leaky #\S+ FAIL /)).toBe(1);
        expect(count(/Worker stopped \(empty\) after 2 job\(s\)/)).toBe(1);
        // pino's readable copies of the event lines (INFO  job processed job={...}) are gone.
        expect(output).not.toMatch(/job processed|job failed|worker started|worker stopped/);
        // What the handler logs is no event of the renderer's: pino shows it, once.
        expect(count(/INFO {2}saying hello /)).toBe(1);
        expect(count(/WARN {2}calling with \*\*\* /)).toBe(1);
        expect(output).not.toContain(BOT_TOKEN.split(':')[1]!);
      },
      SLOW,
    );
  });
});
