/**
 * Rate limits from the command line: bad `rateLimits` refused when the config loads (naming the
 * entry, the value and what is allowed), and `run limits:list` / `run limits:reset` on every
 * backend, after a worker has used a limit.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir } from './helpers/services.js';

describe('rateLimits in the config', () => {
  /** Runs `run about` on a config with these rateLimits (and jobs); returns its first error line. */
  async function refusal(rateLimits: string, jobs = '[]'): Promise<{ line: string; file: string }> {
    const dir = tempDir('jobsmith-rate-config-');
    try {
      const cwd = realpathSync(dir.path);
      const file = path.join(cwd, 'jobsmith.config.ts');
      writeFileSync(
        file,
        "import { defineConfig, defineJob, rateLimited } from 'jobsmith';\n" +
          `export default defineConfig({ jobs: ${jobs}, rateLimits: ${rateLimits} });\n`,
      );
      const result = await runCliInHost(['about'], { cwd, env: appEnv() });
      expect(result.code).toBe(1);
      return { line: result.stderr.split('\n')[0]!, file };
    } finally {
      dir.cleanup();
    }
  }

  it.each([
    [
      "{ 'telegram.chat': { limit: 0, per: '1s' } }",
      'rateLimits["telegram.chat"].limit must be a whole number from 1 to 1000000, got 0.',
    ],
    [
      "{ 'telegram.chat': { limit: 1.5, per: '1s' } }",
      'rateLimits["telegram.chat"].limit must be a whole number from 1 to 1000000, got 1.5.',
    ],
    [
      "{ 'telegram.chat': { limit: 1, per: 0 } }",
      'rateLimits["telegram.chat"].per must be a positive duration from 1ms to 366 days: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got 0.',
    ],
    [
      "{ 'telegram.chat': { limit: 1, per: -1 } }",
      'rateLimits["telegram.chat"].per must be a positive duration from 1ms to 366 days: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got -1.',
    ],
    [
      "{ 'telegram.chat': { limit: 1, per: '-1s' } }",
      'rateLimits["telegram.chat"].per must be a positive duration from 1ms to 366 days: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got "-1s".',
    ],
    [
      "{ 'telegram.chat': { limit: 1, per: '1s', burst: -1 } }",
      'rateLimits["telegram.chat"].burst must be a whole number from 0 to 1000000, got -1.',
    ],
    [
      "{ 'telegram.chat': { limit: 1, per: '1s', brust: 2 } }",
      'rateLimits["telegram.chat"] has unknown field "brust"; the fields are limit, per, burst.',
    ],
    [
      "{ 'telegram:chat': { limit: 1, per: '1s' } }",
      'rateLimits["telegram:chat"]: a limit name uses letters, digits and . _ - (at most 190 characters).',
    ],
    ['[]', '`rateLimits` must be an object keyed by limit name, got [].'],
  ])('refuses %s', async (rateLimits, problem) => {
    const { line, file } = await refusal(rateLimits);
    expect(line).toBe(`Error: Invalid config in ${file}: ${problem}`);
  });

  it('refuses a job whose rateLimited() names a limit rateLimits does not declare', async () => {
    const { line, file } = await refusal(
      "{ 'telegram.chat': { limit: 1, per: '1s' } }",
      "[defineJob({ name: 'telegram.send', middleware: [rateLimited(['telegram.chat', 'telegram.global'])], handle() {} })]",
    );
    expect(line).toBe(
      `Error: Invalid config in ${file}: job "telegram.send" uses rateLimited('telegram.global'), which \`rateLimits\` does not declare (declared: telegram.chat).`,
    );
  });
});

/** One job, limited to one a minute per key: a second job on a key is put back for a minute. */
const CONFIG = `import { defineConfig, defineJob, rateLimited } from 'jobsmith';
import { z } from 'zod';
const send = defineJob({
  name: 'chat.send',
  schema: z.object({ chat: z.string() }),
  middleware: [rateLimited('chat.minute', (p) => p.chat)],
  handle() {},
});
export default defineConfig({
  jobs: [send],
  rateLimits: { 'chat.minute': { limit: 1, per: '1m' }, 'chat.idle': { limit: 5, per: 1, burst: 2 } },
});
`;

/** CONFIG, and a job that pushes back the whole limit for 5 minutes, and one that names a typo. */
const PUSHED_CONFIG = CONFIG.replace(
  'export default defineConfig({\n  jobs: [send],',
  `const upstream429 = defineJob({
  name: 'chat.429',
  handle() { throw new RetryAfter(300, { limit: 'chat.minute' }); },
});
const typo = defineJob({
  name: 'chat.typo',
  handle() { throw new RetryAfter(60, { limit: 'nosuch', key: 'a' }); },
});
export default defineConfig({
  jobs: [send, upstream429, typo],`,
).replace('rateLimited }', 'rateLimited, RetryAfter }');

interface Listed {
  name: string;
  limit: number;
  per: string;
  perMs: number;
  burst: number;
  blockedUntil: string | null;
  keys: Array<{ key: string; freeInMs: number; queuedForMs: number }>;
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'run limits:list and limits:reset', () => {
    let app: TestApp | undefined;
    afterEach(async () => {
      await app?.cleanup();
      app = undefined;
    });

    const list = async (): Promise<Listed[]> => {
      const result = await app!.run(['limits:list', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Listed[];
    };

    it('lists each limit with its busiest keys, and resets a key or the whole limit', async () => {
      app = await createApp(backend, CONFIG);
      for (const chat of ['a', 'a', 'b']) {
        const pushed = await app.run([
          'queue:dispatch',
          'chat.send',
          '--payload',
          `{"chat":"${chat}"}`,
        ]);
        expect(pushed.code, pushed.stderr).toBe(0);
      }
      // Runs a, b and puts the second a back for a minute.
      const work = await app.run(['queue:work', '--stop-when-empty', '--json']);
      expect(work.code, work.stderr).toBe(0);
      expect(work.stdout.split('\n').filter((l) => l.includes('"job:processed"'))).toHaveLength(2);

      const [minute, idle] = await list();
      expect(minute).toMatchObject({
        name: 'chat.minute',
        limit: 1,
        per: '1m',
        perMs: 60_000,
        burst: 0,
      });
      expect(minute!.blockedUntil).toBeNull();
      expect(minute!.keys.map((k) => k.key)).toEqual(['a', 'b']);
      const [a, b] = minute!.keys;
      // a is spent for a minute and a job waits for it: slots handed out to two minutes.
      expect(a!.freeInMs).toBeGreaterThan(50_000);
      expect(a!.queuedForMs).toBeGreaterThan(110_000);
      expect(b!.freeInMs).toBeGreaterThan(50_000);
      expect(idle).toEqual({
        name: 'chat.idle',
        limit: 5,
        per: '1s',
        perMs: 1000,
        burst: 2,
        blockedUntil: null,
        keys: [],
      });

      const table = await app.run(['limits:list']);
      expect(table.code).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toMatch(/^Limit\s+Rule\s+Pushed back\s+Key\s+Free\s+Queued$/);
      // Queued for just under two minutes: shown rounded, so a quick command may read 2m 00s.
      expect(lines[1]).toMatch(
        /^chat\.minute\s+1 per 1m\s+-\s+a\s+in \d\d\.\ds\s+in (1m \d\ds|2m 00s)$/,
      );
      expect(lines[3]).toMatch(/^chat\.idle\s+5 per 1s, burst 2\s+-\s+\(idle\)$/);

      const resetKey = await app.run(['limits:reset', 'chat.minute', 'a']);
      expect(resetKey.code, resetKey.stderr).toBe(0);
      expect(resetKey.stdout).toBe('Reset rate limit chat.minute for key a.\n');
      expect((await list())[0]!.keys.map((k) => k.key)).toEqual(['b']);

      const resetAll = await app.run(['limits:reset', 'chat.minute']);
      expect(resetAll.stdout).toBe('Reset rate limit chat.minute: every key, and its push-back.\n');
      expect((await list())[0]!.keys).toEqual([]);
    });

    it('lists keys free no earlier than a push-back of the whole limit; says when a reset had nothing to forget', async () => {
      app = await createApp(backend, PUSHED_CONFIG);
      for (const [job, payload] of [
        ['chat.send', '{"chat":"a"}'],
        ['chat.429', '{}'],
      ]) {
        const pushed = await app.run(['queue:dispatch', job!, '--payload', payload!]);
        expect(pushed.code, pushed.stderr).toBe(0);
      }
      // chat.send takes key a (free again in a minute); chat.429 pushes the whole limit back 5m.
      const work = await app.run(['queue:work', '--stop-when-empty']);
      expect(work.code, work.stderr).toBe(0);

      const [minute] = await list();
      const blockedForMs = Date.parse(minute!.blockedUntil!) - Date.now();
      expect(blockedForMs).toBeGreaterThan(250_000);
      expect(minute!.keys.map((k) => k.key)).toEqual(['a']);
      // a's own minute is over long before the push-back: it is free when the push-back ends.
      expect(minute!.keys[0]!.freeInMs).toBeGreaterThan(250_000);
      const table = await app.run(['limits:list']);
      expect(table.stdout.split('\n')[1]).toMatch(
        /^chat\.minute\s+1 per 1m\s+until \S+Z\s+a\s+in [45]m \d\ds\s+-$/,
      );

      const noKey = await app.run(['limits:reset', 'chat.minute', 'zzz']);
      expect(noKey.code, noKey.stderr).toBe(0);
      expect(noKey.stdout).toBe(
        'Rate limit chat.minute has no stored state for key zzz: nothing to reset.\n',
      );
      const idle = await app.run(['limits:reset', 'chat.idle']);
      expect(idle.code, idle.stderr).toBe(0);
      expect(idle.stdout).toBe('Rate limit chat.idle has no stored state: nothing to reset.\n');
    });

    it('prints a RetryAfter naming an undeclared limit as a worker error line, and puts the job back', async () => {
      app = await createApp(backend, PUSHED_CONFIG);
      const pushed = await app.run(['queue:dispatch', 'chat.typo', '--payload', '{}']);
      expect(pushed.code, pushed.stderr).toBe(0);
      const work = await app.run(['queue:work', '--stop-when-empty']);
      expect(work.code, work.stderr).toBe(0);
      const lines = work.stderr.split('\n');
      const at = lines.findIndex((l) => l.startsWith('Error during '));
      expect(lines.slice(at, at + 2)).toEqual([
        "Error during the push-back of rate limit 'nosuch' by job chat.typo: RetryAfter names rate limit 'nosuch', which the config does not declare (declared: chat.minute, chat.idle); only the job was put back.",
        "Declare 'nosuch' in defineConfig({ rateLimits }), or fix the limit the job's RetryAfter names.",
      ]);
      expect(work.stdout).toMatch(/ chat\.typo #\S+ PUT BACK /);
      const json = await app.run(['queue:size', 'default', '--json']);
      expect(JSON.parse(json.stdout)[0]).toMatchObject({ delayed: 1 });
    });

    it('refuses an unknown limit name with exit 2, naming those the config declares', async () => {
      app = await createApp(backend, CONFIG);
      const result = await app.run(['limits:reset', 'chat.minutes']);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')[0]).toBe(
        'Error: Unknown rate limit "chat.minutes"; the config declares: chat.minute, chat.idle.',
      );
    });
  });
}
