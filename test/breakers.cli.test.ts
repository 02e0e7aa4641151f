/**
 * Circuit breakers from the terminal, as a user meets them, on SQLite, PostgreSQL and Redis:
 * `run queue:work` prints and logs the breaker opening (readable line and --json), `run
 * breaker:list` shows it (table and --json), `run breaker:reset` closes it (an unknown name
 * exits 2 naming the known ones). A config with a bad breaker is refused when it loads.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 60_000;

const CONFIG = `
import { defineConfig, defineJob, breaker } from 'jobsmith';
import { z } from 'zod';

export const call = defineJob({
  name: 'openai.call',
  schema: z.object({ fail: z.boolean() }),
  tries: 1,
  breaker: { name: 'openai', failures: 2, window: '1m', cooldown: '1h' },
  async handle(p) { if (p.fail) throw new Error('HTTP 503 from upstream'); },
});
export const other = defineJob({
  name: 'openai.embed',
  middleware: [breaker({ name: 'openai', failures: 2, window: 60, cooldown: '60m' })],
  async handle() {},
});
export default defineConfig({ jobs: [call, other] });
`;

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'breaker commands and queue:work', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createApp(backend, CONFIG);
    }, SLOW);
    afterAll(() => app?.cleanup());

    const run = (args: string[]) => app.run(args);
    const ok = async (args: string[]) => {
      const result = await run(args);
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    const list = async () =>
      JSON.parse((await ok(['breaker:list', '--json'])).stdout) as Array<Record<string, unknown>>;
    const dispatch = (fail: boolean) =>
      ok(['queue:dispatch', 'openai.call', '--payload', JSON.stringify({ fail })]);

    it(
      'lists a breaker no failure has touched yet as closed, with its jobs',
      async () => {
        expect(await list()).toEqual([
          {
            name: 'openai',
            state: 'closed',
            probing: false,
            failures: 0,
            window_started_at: null,
            opened_at: null,
            until: null,
            settings: { failures: 2, window_ms: 60_000, cooldown_ms: 3_600_000 },
            jobs: ['openai.call', 'openai.embed'],
          },
        ]);
        const table = await ok(['breaker:list']);
        expect(table.stdout).toMatch(/^Name\s+State\s+Failures\s+Opened at\s+Until\s+Jobs\n/);
        expect(table.stdout).toMatch(/openai\s+closed\s+0\/2 in 1m\s+openai\.call, openai\.embed/);
      },
      SLOW,
    );

    it(
      'queue:work prints and logs the breaker opening; the held job waits without spending an attempt',
      async () => {
        await dispatch(true);
        await dispatch(true);
        await dispatch(false);
        const worked = await ok(['queue:work', '--stop-when-empty', '--sleep', '100ms']);
        expect(worked.stdout).toMatch(
          /BREAKER openai OPEN for (59m 5\d|1h 00m)s? after 2 failure\(s\); job #\S+: HTTP 503 from upstream\n/,
        );
        expect(worked.stdout).toMatch(
          / openai\.call #\S+ PUT BACK \S+ attempt 1 in \S+( \S+)?, no attempt spent: Circuit breaker openai is open\n/,
        );
        const log = readFileSync(path.join(app.cwd, 'storage/logs/app.log'), 'utf8');
        const opened = log
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { msg: string; breaker?: Record<string, unknown> })
          .filter((l) => l.msg === 'breaker opened');
        expect(opened).toEqual([
          expect.objectContaining({
            breaker: expect.objectContaining({ name: 'openai', failures: 2, reopened: false }),
          }),
        ]);

        const [entry] = await list();
        expect(entry).toMatchObject({ name: 'openai', state: 'open', failures: 2 });
        const until = Date.parse(String(entry!.until)) - Date.parse(String(entry!.opened_at));
        expect(until).toBe(3_600_000);
        expect((await ok(['breaker:list'])).stdout).toMatch(/openai\s+open\s+2\/2 in 1m\s+\S+Z/);

        const size = JSON.parse((await ok(['queue:size', 'default', '--json'])).stdout) as Array<{
          delayed: number;
        }>;
        expect(size[0]).toMatchObject({ delayed: 1 });
      },
      SLOW,
    );

    it(
      'emits breaker:opened as a JSON line with --json',
      async () => {
        await ok(['breaker:reset', 'openai']);
        await dispatch(true);
        await dispatch(true);
        const worked = await ok(['queue:work', '--stop-when-empty', '--sleep', '100ms', '--json']);
        const events = worked.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((e) => String(e.event).startsWith('breaker:'));
        expect(events).toEqual([
          {
            time: expect.any(String),
            event: 'breaker:opened',
            name: 'openai',
            failures: 2,
            until: expect.stringMatching(/Z$/),
            reopened: false,
            jobId: expect.any(String),
            error: 'HTTP 503 from upstream',
          },
        ]);
      },
      SLOW,
    );

    it(
      'breaker:reset closes it; an unknown name exits 2 naming the known ones',
      async () => {
        const unknown = await run(['breaker:reset', 'opanai']);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toContain('No circuit breaker named "opanai". Known: openai.');
        expect(unknown.stderr).toContain('Run `run breaker:list` to see the breakers.');
        expect(unknown.stderr).not.toMatch(/\n\s+at /);

        const reset = await ok(['breaker:reset', 'openai']);
        expect(reset.stdout).toBe(
          'Closed  breaker openai: its jobs run again; its failures are forgotten.\n',
        );
        expect(await list()).toMatchObject([{ name: 'openai', state: 'closed', failures: 0 }]);
        expect((await ok(['breaker:reset', 'openai'])).stdout).toBe(
          'Breaker openai is closed already (nothing stored).\n',
        );
      },
      SLOW,
    );
  });
}

/** One failure opens it for 2 s: short enough to see it half-open with nobody probing. */
const SHORT_CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export const call = defineJob({
  name: 'flaky.call',
  tries: 1,
  breaker: { name: 'flaky', failures: 1, cooldown: '2s' },
  async handle() { throw new Error('HTTP 503'); },
});
export default defineConfig({ jobs: [call] });
`;

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'a short breaker cooldown', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createApp(backend, SHORT_CONFIG);
    }, SLOW);
    afterAll(() => app?.cleanup());

    it(
      'prints the cooldown as configured, then lists it half-open with "next job probes"',
      async () => {
        const pushed = await app.run(['queue:dispatch', 'flaky.call', '--payload', '{}']);
        expect(pushed.code, pushed.stderr).toBe(0);
        const worked = await app.run(['queue:work', '--stop-when-empty']);
        expect(worked.code, worked.stderr).toBe(0);
        // Never shorter than configured: PostgreSQL printed 4.99s for a 5s cooldown.
        expect(worked.stdout).toMatch(/BREAKER flaky OPEN for 2\.00s after 1 failure\(s\)/);
        await waitFor(
          async () => {
            const listed = await app.run(['breaker:list', '--json']);
            return (
              (JSON.parse(listed.stdout) as Array<{ state: string }>)[0]?.state === 'half-open'
            );
          },
          { timeoutMs: 10_000, message: 'the breaker did not turn half-open' },
        );
        const [entry] = JSON.parse((await app.run(['breaker:list', '--json'])).stdout) as Array<
          Record<string, unknown>
        >;
        expect(entry).toMatchObject({ state: 'half-open', probing: false, until: null });
        const table = await app.run(['breaker:list']);
        expect(table.stdout).toMatch(/^flaky\s+half-open\s+.*Z\s+next job probes\s+flaky\.call$/m);
      },
      SLOW,
    );
  });
}

describe('a config with a bad breaker', () => {
  const refused = async (config: string) => {
    const app = await createApp('sqlite', config);
    try {
      const result = await app.run(['breaker:list']);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      return result.stderr;
    } finally {
      await app.cleanup();
    }
  };
  const job = (name: string, breaker: string) => `
defineJob({ name: '${name}', breaker: ${breaker}, async handle() {} })`;
  const config = (...jobs: string[]) => `
import { defineConfig, defineJob, breaker } from 'jobsmith';
export default defineConfig({ jobs: [${jobs.join(', ')}] });
`;

  it(
    'refuses failures: 0, naming the job, the entry, the value and what is allowed',
    async () => {
      expect(await refused(config(job('gpt', "{ name: 'openai', failures: 0 }")))).toContain(
        'Job gpt: breaker.failures must be a whole number from 1 to 1000000 (the failures that open it); got 0.',
      );
    },
    SLOW,
  );

  it(
    'refuses a cooldown that is not a duration',
    async () => {
      expect(await refused(config(job('gpt', "{ name: 'openai', cooldown: '30 sec' }")))).toContain(
        'Job gpt: breaker.cooldown must be a positive duration, seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d, at most 100 years; got "30 sec".',
      );
    },
    SLOW,
  );

  it(
    'refuses two jobs that give one breaker different settings',
    async () => {
      const stderr = await refused(
        config(
          job('a', "{ name: 'openai', failures: 5 }"),
          `defineJob({ name: 'b', middleware: [breaker({ name: 'openai', failures: 3 })], async handle() {} })`,
        ),
      );
      expect(stderr).toContain(
        'breaker "openai" is declared with different settings: job a (breaker) has failures 5, window 60000ms, cooldown 30000ms, job b (middleware[0]) has failures 3, window 60000ms, cooldown 30000ms; every job naming one breaker must give it the same failures, window and cooldown.',
      );
    },
    SLOW,
  );
});
