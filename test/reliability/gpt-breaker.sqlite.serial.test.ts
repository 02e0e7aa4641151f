/**
 * The `openai` breaker shared by four worker processes (issue 14): while the fake OpenAI server
 * answers, GPT jobs flow; once it starts failing, requests stop within a second across all four
 * workers, and after each cooldown exactly one probe is sent; once it answers again, the probe
 * closes the breaker and every job completes. SQLite: the breakers table every worker shares.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/app.js';
import type { CliProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { startFakeOpenAi, type FakeOpenAi } from '../doubles/openai/index.js';

const COOLDOWN_MS = 1500;
const JOBS = 150;

const CONFIG = `
import { defineConfig } from 'jobsmith';
export default defineConfig({
  gpt: { breaker: { failures: 5, window: '1m', cooldown: '${COOLDOWN_MS}ms' } },
  queues: { gpt: { concurrency: 2, tries: 20, backoff: 0.2 } },
});
`;

describe('the openai breaker across four workers (SQLite)', () => {
  let app: TestApp;
  let api: FakeOpenAi;
  const workers: CliProcess[] = [];
  beforeAll(async () => {
    app = await createApp('sqlite', CONFIG);
    // A little latency, so requests are in flight when the server starts failing.
    api = await startFakeOpenAi({ delayMs: 20 });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGTERM', 5000).catch(() => undefined)));
    await api?.close();
    await app?.cleanup();
  });

  it('stops requests within a second of the failures, probes once per cooldown, then recovers', async () => {
    const env = { OPENAI_API_KEY: api.apiKey, OPENAI_BASE_URL: api.baseURL };
    const input = Array.from({ length: JOBS }, (_, i) => JSON.stringify({ prompt: `job ${i}` }));
    const dispatched = await app.run(['queue:dispatch', 'gpt.complete'], {
      env,
      input: `${input.join('\n')}\n`,
    });
    expect(dispatched.code, dispatched.stderr).toBe(0);
    for (let i = 0; i < 4; i++)
      workers.push(
        app.spawn(['queue:work', '--queue', 'gpt', '--sleep', '100ms'], { env, timeoutMs: 60_000 }),
      );
    await waitFor(() => api.requests.filter((r) => r.status === 200).length >= 20, {
      timeoutMs: 20_000,
      message: 'the workers did not get going',
    });
    api.replyAlways({ kind: 'server-error' });
    const failingSince = Date.now();
    const late = () => api.requests.filter((r) => r.at > failingSince + 1000);
    // Two cooldowns: two probes, and nothing else.
    await waitFor(() => late().length >= 2, {
      timeoutMs: 3 * COOLDOWN_MS + 2000,
      message: 'no probes',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const probes = late();
    expect(probes.map((p) => p.status)).toEqual([500, 500]);
    // The first probe comes a cooldown after the breaker opened (after the failures began),
    // and each later one a cooldown after the one before it failed.
    expect(probes[0]!.at - failingSince).toBeGreaterThanOrEqual(COOLDOWN_MS - 100);
    expect(probes[1]!.at - probes[0]!.at).toBeGreaterThanOrEqual(COOLDOWN_MS - 100);
    // Requests in the failing second: the 8 in flight (4 workers × concurrency 2) when the
    // server turned, and, since the breaker opens only once a 5th failure is recorded, at most
    // one more per slot sent while those were being recorded (a loaded machine stretches that:
    // CI saw 15 against a bound of 13 that left this out). "Within a second" itself is the
    // check above: after it, only the probes.
    const burst = api.requests.filter((r) => r.at >= failingSince && r.at <= failingSince + 1000);
    expect(burst.length).toBeLessThanOrEqual(8 + 8);
    expect(workers.some((w) => /BREAKER openai OPEN/.test(w.output))).toBe(true);

    api.replyAlways(undefined);
    const db = await app.db();
    await waitFor(
      async () => {
        const [{ n }] = await db
          .knex('gpt_requests')
          .where({ status: 'succeeded' })
          .count({ n: '*' });
        return Number(n) === JOBS;
      },
      { timeoutMs: 30_000, message: 'not every job succeeded after the recovery' },
    );
    expect(await db.knex('failed_jobs').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(workers.some((w) => /BREAKER openai CLOSED/.test(w.output))).toBe(true);
  }, 60_000);
});
